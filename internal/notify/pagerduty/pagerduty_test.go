package pagerduty_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/notifytest"
	"github.com/dpc-learning/dpcops/internal/notify/pagerduty"
	"github.com/dpc-learning/dpcops/internal/spec"
)

const routingKey = "R0UTINGKEYsecret0123456789abcdef"

func build(base string) notify.Notifier {
	ch := &spec.Channel{Name: "pagerduty", Type: spec.ChannelPagerDuty, RoutingKey: routingKey, URL: spec.Secret(base)}
	return pagerduty.New(ch, "dpc-learning/prod", notify.NewHTTPClient(0, nil))
}

func TestTriggerFieldByField(t *testing.T) {
	pd := notifytest.NewPagerDuty(t, routingKey)
	d := notifytest.Sample(notify.KindTrigger)
	if retry, err := build(pd.URL).Notify(context.Background(), d); err != nil || retry {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	if d.Answer.Status != 202 || !strings.Contains(d.Answer.Body, `"status":"success"`) {
		t.Errorf("answer %+v", d.Answer)
	}
	r := pd.Requests()[0]
	if r.Path != "/v2/enqueue" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %q", r.Path, r.Header.Get("Content-Type"))
	}
	var ev map[string]any
	if err := json.Unmarshal(r.Body, &ev); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"routing_key":  routingKey,
		"event_action": "trigger",
		"dedup_key":    "dpcops:dpc-learning:prod:Alert-COPY-Error:3",
		"client":       "dpcops",
		"client_url":   "https://dpcops.example.org/alarms/Alert-COPY-Error",
	}
	for k, v := range want {
		if ev[k] != v {
			t.Errorf("%s = %v, want %v", k, ev[k], v)
		}
	}
	p := ev["payload"].(map[string]any)
	wantP := map[string]any{
		"summary":   "[ALARM] Alert-COPY-Error: CopyErrorCount = 2 (threshold >= 1)",
		"source":    "dpc-learning/prod",
		"severity":  "critical",
		"timestamp": "2026-11-27T03:05:00Z",
		"component": "CopyErrorCount",
		"group":     "dpc-learning",
		"class":     "Alert-COPY-Error",
	}
	for k, v := range wantP {
		if p[k] != v {
			t.Errorf("payload.%s = %v, want %v", k, p[k], v)
		}
	}
	cd := p["custom_details"].(map[string]any)
	for _, k := range []string{"alarm", "state", "reason", "condition", "value", "threshold", "episode", "description", "dimensions"} {
		if _, ok := cd[k]; !ok {
			t.Errorf("custom_details lacks %s: %v", k, cd)
		}
	}
	if cd["value"] != "2" || cd["state"] != "OK -> ALARM" {
		t.Errorf("custom_details %v", cd)
	}
	links := ev["links"].([]any)
	if l := links[0].(map[string]any); l["href"] != "https://dpcops.example.org/alarms/Alert-COPY-Error" {
		t.Errorf("links %v", links)
	}
	if inc := pd.Incidents(); len(inc) != 1 || inc[0].Resolved || inc[0].Severity != "critical" {
		t.Errorf("incidents %+v", inc)
	}
}

func TestResolveClosesTheIncident(t *testing.T) {
	pd := notifytest.NewPagerDuty(t, routingKey)
	n := build(pd.URL)
	for _, k := range []notify.Kind{notify.KindTrigger, notify.KindRepeat, notify.KindResolve} {
		if _, err := n.Notify(context.Background(), notifytest.Sample(k)); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	var ev map[string]any
	if err := json.Unmarshal(pd.Requests()[2].Body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev["event_action"] != "resolve" || ev["dedup_key"] != "dpcops:dpc-learning:prod:Alert-COPY-Error:3" || ev["payload"] != nil {
		t.Errorf("resolve event %v", ev)
	}
	inc := pd.Incidents()
	if len(inc) != 1 || inc[0].Events != 2 || !inc[0].Resolved {
		t.Errorf("the trigger and the repeat fold into one incident, which the resolve closes: %+v", inc)
	}
}

func TestSeverityAndLimits(t *testing.T) {
	for sev, want := range map[string]string{"critical": "critical", "error": "error", "warning": "warning", "info": "info", "": "warning"} {
		if got := pagerduty.Severity(sev); got != want {
			t.Errorf("Severity(%q) = %q, want %q", sev, got, want)
		}
	}
	d := notifytest.Sample(notify.KindTrigger)
	d.Message.Alarm = strings.Repeat("A", 2000)
	d.DedupKey = strings.Repeat("k", 300)
	ev := pagerduty.Build(d, routingKey, "src")
	if len(ev.Payload.Summary) > 1024 || len(ev.DedupKey) > 255 {
		t.Errorf("summary %d bytes, dedup_key %d bytes: over PagerDuty's limits", len(ev.Payload.Summary), len(ev.DedupKey))
	}
	if ev := pagerduty.Build(notifytest.Sample(notify.KindNotice), routingKey, "src"); ev != nil {
		t.Errorf("a notice must not page: %+v", ev)
	}
}

func TestDefaultEndpoint(t *testing.T) {
	rt := &notifytest.Transport{}
	ch := &spec.Channel{Name: "pagerduty", Type: spec.ChannelPagerDuty, RoutingKey: routingKey}
	n := pagerduty.New(ch, "src", &http.Client{Transport: rt})
	if _, err := n.Notify(context.Background(), notifytest.Sample(notify.KindTrigger)); err != nil {
		t.Fatal(err)
	}
	if len(rt.URLs()) != 1 || rt.URLs()[0] != "https://events.pagerduty.com/v2/enqueue" {
		t.Errorf("sent to %v", rt.URLs())
	}
}

// TestAnswersAndSecrets also sends through a relay whose url holds a
// token in its path (url may point at a proxy): neither the routing key
// nor that token may survive a receiver that echoes them.
func TestAnswersAndSecrets(t *testing.T) {
	notifytest.CheckHTTPIntegration(t, build, notify.KindTrigger, routingKey)
	const relayToken = "relayPATHtoken0042"
	relay := func(base string) notify.Notifier { return build(base + "/relay/" + relayToken) }
	notifytest.CheckHTTPIntegration(t, relay, notify.KindTrigger, routingKey, relayToken)
}
