package slack_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/notifytest"
	"github.com/dpc-learning/dpcops/internal/notify/slack"
	"github.com/dpc-learning/dpcops/internal/spec"
)

const token = "T0001/B0002/xoxbSECRETwebhookTOKEN"

func channel(base string) *spec.Channel {
	return &spec.Channel{Name: "slack", Type: spec.ChannelSlack, WebhookURL: spec.Secret(base + "/services/" + token),
		Channel: "#dpc-alerts", Username: "dpcops"}
}

func build(base string) notify.Notifier {
	return slack.New(channel(base), notify.NewHTTPClient(0, nil))
}

// body is the webhook payload as Slack reads it.
type body struct {
	Text     string `json:"text"`
	Channel  string `json:"channel"`
	Username string `json:"username"`
	Blocks   []struct {
		Type string `json:"type"`
		Text *struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"text"`
		Fields []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"fields"`
		Elements []struct {
			Type string          `json:"type"`
			Text json.RawMessage `json:"text"`
			URL  string          `json:"url"`
		} `json:"elements"`
	} `json:"blocks"`
}

func TestPayloadFieldByField(t *testing.T) {
	rc := notifytest.NewReceiver(t, notifytest.Always(200, "ok"))
	d := notifytest.Sample(notify.KindTrigger)
	retry, err := build(rc.URL).Notify(context.Background(), d)
	if err != nil || retry {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	if d.Answer.Status != 200 || d.Answer.Body != "ok" {
		t.Errorf("answer %+v, want 200 ok", d.Answer)
	}
	reqs := rc.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/services/"+token || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Errorf("request %s %s %q", r.Method, r.Path, r.Header.Get("Content-Type"))
	}
	var b body
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatal(err)
	}
	if b.Channel != "#dpc-alerts" || b.Username != "dpcops" {
		t.Errorf("channel %q username %q", b.Channel, b.Username)
	}
	for _, want := range []string{"[ALARM] Alert-COPY-Error", "CopyErrorCount = 2", "threshold &gt;= 1", "<https://dpcops.example.org/alarms/Alert-COPY-Error|dashboard>"} {
		if !strings.Contains(b.Text, want) {
			t.Errorf("text %q lacks %q", b.Text, want)
		}
	}
	if len(b.Blocks) != 6 {
		t.Fatalf("%d blocks: %s", len(b.Blocks), r.Body)
	}
	if h := b.Blocks[0]; h.Type != "header" || h.Text.Type != "plain_text" || h.Text.Text != "[ALARM] Alert-COPY-Error (critical) dpc-learning/prod" {
		t.Errorf("header %+v", h)
	}
	wantFields := []string{"*Alarm*\nAlert-COPY-Error", "*State*\nOK → ALARM", "*Severity*\ncritical",
		"*Metric*\nCopyErrorCount", "*Value*\n2", "*Threshold*\n&gt;= 1"}
	f := b.Blocks[1].Fields
	if b.Blocks[1].Type != "section" || len(f) != len(wantFields) {
		t.Fatalf("fields %+v", b.Blocks[1])
	}
	for i, w := range wantFields {
		if f[i].Type != "mrkdwn" || f[i].Text != w {
			t.Errorf("field %d = %q, want %q", i, f[i].Text, w)
		}
	}
	if rs := b.Blocks[2].Text.Text; !strings.HasPrefix(rs, "*Reason*\nThreshold Crossed: 1 out of the last 1 datapoints") {
		t.Errorf("reason block %q", rs)
	}
	if desc := b.Blocks[3].Text.Text; desc != "A COPY load failed; the batch failed." {
		t.Errorf("description block %q", desc)
	}
	if c := b.Blocks[4]; c.Type != "context" || !strings.Contains(string(c.Elements[0].Text), "episode 3") {
		t.Errorf("context block %+v", c)
	}
	a := b.Blocks[5]
	if a.Type != "actions" || a.Elements[0].Type != "button" || a.Elements[0].URL != "https://dpcops.example.org/alarms/Alert-COPY-Error" {
		t.Errorf("actions block %+v", a)
	}
}

func TestResolveAndTestMessages(t *testing.T) {
	tests := []struct {
		kind   notify.Kind
		header string
	}{
		{notify.KindResolve, "[RESOLVED] Alert-COPY-Error"},
		{notify.KindRepeat, "[STILL ALARM] Alert-COPY-Error"},
		{notify.KindNotice, "[INSUFFICIENT DATA] Alert-COPY-Error"},
		{notify.KindTest, "[TEST] Alert-COPY-Error"},
	}
	for _, tt := range tests {
		m := notifytest.Sample(tt.kind).Message
		p := slack.Payload(m, "", "")
		if !strings.HasPrefix(p.Blocks[0].Text.Text, tt.header) {
			t.Errorf("%s: header %q, want prefix %q", tt.kind, p.Blocks[0].Text.Text, tt.header)
		}
	}
}

func TestEscapesSlackControlCharacters(t *testing.T) {
	m := notifytest.Sample(notify.KindTrigger).Message
	m.Reason = "rows <a> & <!channel>"
	p := slack.Payload(m, "", "")
	if got := p.Blocks[2].Text.Text; got != "*Reason*\nrows &lt;a&gt; &amp; &lt;!channel&gt;" {
		t.Errorf("reason %q: a reason must not ping the channel or inject links", got)
	}
}

// TestAnswersAndSecrets also checks that no part of the webhook URL's
// secret path survives a receiver that echoes it segment by segment.
func TestAnswersAndSecrets(t *testing.T) {
	notifytest.CheckHTTPIntegration(t, build, notify.KindTrigger, token, "T0001", "B0002", "xoxbSECRETwebhookTOKEN")
}

func TestInvalidURLDoesNotLeak(t *testing.T) {
	ch := channel("")
	ch.WebhookURL = spec.Secret("http://bad host/" + token)
	_, err := slack.New(ch, notify.NewHTTPClient(0, nil)).Notify(context.Background(), notifytest.Sample(notify.KindTrigger))
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("err = %v", err)
	}
}
