// Package opsgenie delivers notifications to the OpsGenie Alert API:
// POST {url}/v2/alerts with "Authorization: GenieKey <key>" creates an
// alert whose alias is the episode's dedup key (an open alert with the
// same alias is not duplicated: its count goes up), and POST
// {url}/v2/alerts/{alias}/close?identifierType=alias closes it. OpsGenie
// answers 202 and processes the request asynchronously.
package opsgenie

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// The API's addresses by region; a channel's url replaces them.
const (
	DefaultURL = "https://api.opsgenie.com"
	EUURL      = "https://api.eu.opsgenie.com"
)

// Limits of the Alert API.
const (
	maxMessage     = 130
	maxAlias       = 512
	maxDescription = 15000
	maxSource      = 100
	maxTag         = 50
	maxDetailValue = 8000
	maxNote        = 25000
)

// Notifier sends alerts to one OpsGenie integration.
type Notifier struct {
	name    string
	base    string
	apiKey  spec.Secret
	source  string
	client  *http.Client
	secrets []string
}

// New returns the notifier of an opsgenie channel; source names dpcops'
// installation in the alerts.
func New(ch *spec.Channel, source string, client *http.Client) *Notifier {
	base := DefaultURL
	if ch.Region == "eu" {
		base = EUURL
	}
	if ch.URL.IsSet() {
		base = ch.URL.Reveal()
	}
	return &Notifier{name: ch.Name, base: strings.TrimRight(base, "/"), apiKey: ch.APIKey, source: source,
		client: client, secrets: notify.ChannelSecrets(ch)}
}

// Alert is the body of a create request.
type Alert struct {
	Message     string            `json:"message"`
	Alias       string            `json:"alias"`
	Description string            `json:"description,omitempty"`
	Priority    string            `json:"priority"`
	Tags        []string          `json:"tags,omitempty"`
	Details     map[string]string `json:"details,omitempty"`
	Entity      string            `json:"entity,omitempty"`
	Source      string            `json:"source,omitempty"`
	Note        string            `json:"note,omitempty"`
}

// Close is the body of a close request.
type Close struct {
	Source string `json:"source,omitempty"`
	Note   string `json:"note,omitempty"`
}

// Notify creates the alert (trigger, repeat, test) or closes it by alias
// (resolve).
func (n *Notifier) Notify(ctx context.Context, d *notify.Delivery) (bool, error) {
	target, body := n.request(d)
	if target == "" {
		return false, nil
	}
	b, err := json.Marshal(body)
	if err != nil {
		return false, fmt.Errorf("%s: encode request: %w", n.name, err)
	}
	return notify.PostJSON(ctx, n.client, d, n.name, "url", target, b,
		http.Header{"Authorization": {"GenieKey " + n.apiKey.Reveal()}}, n.secrets...)
}

// request returns the URL and body of a delivery; "" for a kind OpsGenie
// is not told about.
func (n *Notifier) request(d *notify.Delivery) (string, any) {
	alias := notify.Truncate(d.DedupKey, maxAlias)
	switch d.Kind {
	case notify.KindResolve:
		return n.base + "/v2/alerts/" + url.PathEscape(alias) + "/close?identifierType=alias",
			CloseBody(d.Message, n.source)
	case notify.KindTrigger, notify.KindRepeat, notify.KindTest:
		return n.base + "/v2/alerts", Build(d, n.source)
	}
	return "", nil
}

// Build makes the create request of a delivery.
func Build(d *notify.Delivery, source string) Alert {
	m := d.Message
	desc := m.Reason
	if m.Description != "" {
		desc = m.Description + "\n\n" + m.Reason
	}
	desc += "\n\nCondition: " + m.Condition() + "\nValue: " + m.ValueText()
	if m.DashboardURL != "" {
		desc += "\nDashboard: " + m.DashboardURL
	}
	details := map[string]string{
		"alarm":       m.Alarm,
		"state":       m.From + " -> " + m.To,
		"severity":    m.Severity,
		"metric":      m.Watched(),
		"value":       m.ValueText(),
		"threshold":   notify.Operator(m.Comparison) + " " + notify.FormatValue(m.Threshold),
		"episode":     strconv.FormatInt(m.Episode, 10),
		"platform":    m.Platform,
		"environment": m.Environment,
		"time":        m.Time.UTC().Format("2006-01-02T15:04:05Z"),
	}
	if m.DashboardURL != "" {
		details["dashboard"] = m.DashboardURL
	}
	for k, v := range details {
		details[k] = notify.Truncate(v, maxDetailValue)
	}
	a := Alert{
		Message:     notify.TruncateRunes(m.Summary(), maxMessage),
		Alias:       notify.Truncate(d.DedupKey, maxAlias),
		Description: notify.TruncateRunes(desc, maxDescription),
		Priority:    Priority(m.Severity),
		Tags:        tags(m),
		Details:     details,
		Entity:      m.Alarm,
		Source:      notify.TruncateRunes(source, maxSource),
	}
	if d.Kind == notify.KindRepeat {
		a.Note = "Still in ALARM."
	}
	return a
}

// CloseBody is the body of the close request of a resolve.
func CloseBody(m notify.Message, source string) Close {
	return Close{Source: notify.TruncateRunes(source, maxSource),
		Note: notify.TruncateRunes("Alarm back to OK. "+m.Reason, maxNote)}
}

// Priority maps an alarm's severity to OpsGenie's P1 (highest) to P5.
func Priority(severity string) string {
	switch severity {
	case "critical":
		return "P1"
	case "error":
		return "P2"
	case "warning":
		return "P3"
	case "info":
		return "P5"
	}
	return "P3"
}

func tags(m notify.Message) []string {
	var out []string
	for _, t := range []string{"dpcops", m.Platform, m.Environment, "severity:" + m.Severity} {
		if t != "" && t != "severity:" {
			out = append(out, notify.Truncate(t, maxTag))
		}
	}
	if m.Kind == notify.KindTest {
		out = append(out, "test")
	}
	return out
}
