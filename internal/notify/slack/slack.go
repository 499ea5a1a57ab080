// Package slack delivers notifications to a Slack incoming webhook: a
// JSON POST of {text, blocks} that Slack answers 200 "ok". 400
// invalid_payload, 403 action_prohibited, 404 channel_not_found and 410
// channel_is_archived cannot succeed later; 429 and 5xx can.
package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// Slack's limits on block text.
const (
	maxHeader  = 150
	maxField   = 2000
	maxSection = 3000
	maxText    = 4000
)

// Notifier posts to one Slack incoming webhook.
type Notifier struct {
	name     string
	url      spec.Secret
	channel  string
	username string
	client   *http.Client
	secrets  []string
}

// New returns the notifier of a slack channel; client carries the
// requests (its timeout bounds each one).
func New(ch *spec.Channel, client *http.Client) *Notifier {
	return &Notifier{name: ch.Name, url: ch.WebhookURL, channel: ch.Channel, username: ch.Username, client: client,
		secrets: notify.ChannelSecrets(ch)}
}

// Notify posts the message. The webhook URL is the secret: it appears in
// no error.
func (n *Notifier) Notify(ctx context.Context, d *notify.Delivery) (bool, error) {
	body, err := json.Marshal(Payload(d.Message, n.channel, n.username))
	if err != nil {
		return false, fmt.Errorf("%s: encode payload: %w", n.name, err)
	}
	return notify.PostJSON(ctx, n.client, d, n.name, "webhook_url", n.url.Reveal(), body,
		http.Header{"Content-Type": {"application/json; charset=utf-8"}}, n.secrets...)
}

// Message is the JSON body of an incoming webhook.
type Message struct {
	Text     string  `json:"text"`
	Channel  string  `json:"channel,omitempty"`
	Username string  `json:"username,omitempty"`
	Blocks   []Block `json:"blocks"`
}

// Block is one Block Kit block.
type Block struct {
	Type     string    `json:"type"`
	Text     *Text     `json:"text,omitempty"`
	Fields   []Text    `json:"fields,omitempty"`
	Elements []Element `json:"elements,omitempty"`
}

// Text is a text object: plain_text or mrkdwn.
type Text struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Element is a context text or an actions button.
type Element struct {
	Type string `json:"type"`
	Text any    `json:"text,omitempty"`
	URL  string `json:"url,omitempty"`
}

// Payload renders a message as Slack blocks: a header, the alarm, state,
// severity, metric, value and threshold as fields, the reason, and a
// button to the alarm's page. text repeats the essentials for
// notifications and clients that do not show blocks.
func Payload(m notify.Message, channel, username string) Message {
	fields := []Text{
		field("Alarm", m.Alarm),
		field("State", m.From+" → "+m.To),
		field("Severity", m.Severity),
		field("Metric", m.Watched()),
		field("Value", m.ValueText()),
		field("Threshold", strings.TrimSpace(notify.Operator(m.Comparison)+" "+notify.FormatValue(m.Threshold))),
	}
	if m.Kind == notify.KindTest {
		fields = []Text{field("Alarm", m.Alarm), field("Severity", m.Severity)}
	}
	blocks := []Block{
		{Type: "header", Text: &Text{Type: "plain_text", Text: notify.TruncateRunes(m.Title(), maxHeader)}},
		{Type: "section", Fields: fields},
		{Type: "section", Text: &Text{Type: "mrkdwn", Text: notify.TruncateRunes("*Reason*\n"+escape(m.Reason), maxSection)}},
	}
	if m.Description != "" {
		blocks = append(blocks, Block{Type: "section", Text: &Text{Type: "mrkdwn", Text: notify.TruncateRunes(escape(m.Description), maxSection)}})
	}
	ctxText := fmt.Sprintf("%s/%s · %s · %s", m.Platform, m.Environment, m.Time.Format("2006-01-02 15:04:05 MST"), m.Condition())
	if m.Episode > 0 {
		ctxText += fmt.Sprintf(" · episode %d", m.Episode)
	}
	blocks = append(blocks, Block{Type: "context", Elements: []Element{{Type: "mrkdwn", Text: notify.TruncateRunes(escape(ctxText), maxSection)}}})
	if m.DashboardURL != "" {
		blocks = append(blocks, Block{Type: "actions", Elements: []Element{{
			Type: "button", Text: Text{Type: "plain_text", Text: "Open in dpcops"}, URL: m.DashboardURL,
		}}})
	}
	text := escape(m.Summary())
	if m.DashboardURL != "" {
		text += " <" + m.DashboardURL + "|dashboard>"
	}
	return Message{Text: notify.TruncateRunes(text, maxText), Channel: channel, Username: username, Blocks: blocks}
}

func field(name, value string) Text {
	return Text{Type: "mrkdwn", Text: notify.TruncateRunes("*"+name+"*\n"+escape(value), maxField)}
}

// escape escapes the three characters Slack's mrkdwn reserves.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
