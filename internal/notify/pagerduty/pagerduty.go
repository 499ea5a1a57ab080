// Package pagerduty delivers notifications to PagerDuty's Events API v2:
// POST {url}/v2/enqueue with the integration's routing key. A trigger
// opens an incident (or adds to the open one with the same dedup_key), a
// resolve closes it. PagerDuty answers 202; 400 means the event is
// invalid and must not be retried; 429 and 5xx may be retried.
package pagerduty

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// DefaultURL is the Events API's address; a channel's url replaces it.
const DefaultURL = "https://events.pagerduty.com"

// maxSummary is the Events API v2's limit on summary; its limit on
// dedup_key is notify.MaxDedupKey.
const maxSummary = 1024

// Notifier sends events to one PagerDuty service integration.
type Notifier struct {
	name       string
	endpoint   string
	routingKey spec.Secret
	source     string
	client     *http.Client
	secrets    []string
}

// New returns the notifier of a pagerduty channel. source names the
// affected system in the events (the workgroup, or the platform).
func New(ch *spec.Channel, source string, client *http.Client) *Notifier {
	base := DefaultURL
	if ch.URL.IsSet() {
		base = ch.URL.Reveal()
	}
	return &Notifier{
		name: ch.Name, endpoint: strings.TrimRight(base, "/") + "/v2/enqueue", routingKey: ch.RoutingKey,
		source: source, client: client, secrets: notify.ChannelSecrets(ch),
	}
}

// Event is an Events API v2 event.
type Event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Payload     *Payload `json:"payload,omitempty"`
	Client      string   `json:"client,omitempty"`
	ClientURL   string   `json:"client_url,omitempty"`
	Links       []Link   `json:"links,omitempty"`
}

// Payload is a trigger's description of the incident.
type Payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// Link is a link shown with the incident.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// Notify sends a trigger (trigger, repeat, test) or a resolve event with
// the delivery's dedup key. A notice is not sent: missing data does not
// page (the router never routes one here).
func (n *Notifier) Notify(ctx context.Context, d *notify.Delivery) (bool, error) {
	ev := Build(d, n.routingKey.Reveal(), n.source)
	if ev == nil {
		return false, nil
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return false, fmt.Errorf("%s: encode event: %w", n.name, err)
	}
	return notify.PostJSON(ctx, n.client, d, n.name, "url", n.endpoint, body, nil, n.secrets...)
}

// Build makes the event of a delivery; nil for a kind PagerDuty is not
// told about.
func Build(d *notify.Delivery, routingKey, source string) *Event {
	m := d.Message
	ev := &Event{RoutingKey: routingKey, DedupKey: notify.Truncate(d.DedupKey, notify.MaxDedupKey)}
	switch d.Kind {
	case notify.KindResolve:
		ev.EventAction = "resolve"
		return ev
	case notify.KindTrigger, notify.KindRepeat, notify.KindTest:
		ev.EventAction = "trigger"
	default:
		return nil
	}
	ev.Client = "dpcops"
	ev.ClientURL = m.DashboardURL
	if m.DashboardURL != "" {
		ev.Links = []Link{{Href: m.DashboardURL, Text: "Alarm in dpcops"}}
	}
	details := map[string]any{
		"alarm":       m.Alarm,
		"state":       m.From + " -> " + m.To,
		"reason":      m.Reason,
		"condition":   m.Condition(),
		"value":       m.ValueText(),
		"threshold":   m.Threshold,
		"episode":     m.Episode,
		"environment": m.Environment,
	}
	if m.Description != "" {
		details["description"] = m.Description
	}
	if len(m.Dimensions) > 0 {
		details["dimensions"] = m.Dimensions
	}
	ev.Payload = &Payload{
		Summary:       notify.Truncate(m.Summary(), maxSummary),
		Source:        source,
		Severity:      Severity(m.Severity),
		Timestamp:     m.Time.UTC().Format(time.RFC3339),
		Component:     m.Watched(),
		Group:         m.Platform,
		Class:         m.Alarm,
		CustomDetails: details,
	}
	return ev
}

// Severity maps an alarm's severity to PagerDuty's: the four names are
// the same; anything else is warning.
func Severity(s string) string {
	switch s {
	case "critical", "error", "warning", "info":
		return s
	}
	return "warning"
}
