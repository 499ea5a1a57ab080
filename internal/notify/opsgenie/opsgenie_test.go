package opsgenie_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/notifytest"
	"github.com/dpc-learning/dpcops/internal/notify/opsgenie"
	"github.com/dpc-learning/dpcops/internal/spec"
)

const apiKey = "0pSgEnIe-api-KEY-secret-0000"

func build(base string) notify.Notifier {
	ch := &spec.Channel{Name: "opsgenie", Type: spec.ChannelOpsGenie, APIKey: apiKey, URL: spec.Secret(base), Region: "us"}
	return opsgenie.New(ch, "dpc-learning/prod", notify.NewHTTPClient(0, nil))
}

func TestCreateFieldByField(t *testing.T) {
	og := notifytest.NewOpsGenie(t, apiKey)
	d := notifytest.Sample(notify.KindTrigger)
	if retry, err := build(og.URL).Notify(context.Background(), d); err != nil || retry {
		t.Fatalf("retry=%v err=%v", retry, err)
	}
	if d.Answer.Status != 202 || !strings.Contains(d.Answer.Body, "Request will be processed") {
		t.Errorf("answer %+v", d.Answer)
	}
	r := og.Requests()[0]
	if r.Method != "POST" || r.Path != "/v2/alerts" || r.Header.Get("Authorization") != "GenieKey "+apiKey ||
		r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s auth %q", r.Method, r.Path, r.Header.Get("Authorization"))
	}
	var a struct {
		Message     string            `json:"message"`
		Alias       string            `json:"alias"`
		Description string            `json:"description"`
		Priority    string            `json:"priority"`
		Tags        []string          `json:"tags"`
		Details     map[string]string `json:"details"`
		Entity      string            `json:"entity"`
		Source      string            `json:"source"`
	}
	if err := json.Unmarshal(r.Body, &a); err != nil {
		t.Fatal(err)
	}
	if a.Message != "[ALARM] Alert-COPY-Error: CopyErrorCount = 2 (threshold >= 1)" || len([]rune(a.Message)) > 130 {
		t.Errorf("message %q", a.Message)
	}
	if a.Alias != "dpcops:dpc-learning:prod:Alert-COPY-Error:3" {
		t.Errorf("alias %q", a.Alias)
	}
	if a.Priority != "P1" || a.Entity != "Alert-COPY-Error" || a.Source != "dpc-learning/prod" {
		t.Errorf("priority %q entity %q source %q", a.Priority, a.Entity, a.Source)
	}
	for _, want := range []string{"A COPY load failed", "Threshold Crossed", "Condition: Sum of CopyErrorCount >= 1", "Dashboard: https://dpcops.example.org/alarms/Alert-COPY-Error"} {
		if !strings.Contains(a.Description, want) {
			t.Errorf("description lacks %q: %q", want, a.Description)
		}
	}
	if strings.Join(a.Tags, ",") != "dpcops,dpc-learning,prod,severity:critical" {
		t.Errorf("tags %v", a.Tags)
	}
	wantDetails := map[string]string{"alarm": "Alert-COPY-Error", "state": "OK -> ALARM", "severity": "critical",
		"metric": "CopyErrorCount", "value": "2", "threshold": ">= 1", "episode": "3", "platform": "dpc-learning",
		"environment": "prod", "time": "2026-11-27T03:05:00Z", "dashboard": "https://dpcops.example.org/alarms/Alert-COPY-Error"}
	for k, v := range wantDetails {
		if a.Details[k] != v {
			t.Errorf("details.%s = %q, want %q", k, a.Details[k], v)
		}
	}
}

func TestCloseByAlias(t *testing.T) {
	og := notifytest.NewOpsGenie(t, apiKey)
	n := build(og.URL)
	for _, k := range []notify.Kind{notify.KindTrigger, notify.KindRepeat, notify.KindResolve} {
		if _, err := n.Notify(context.Background(), notifytest.Sample(k)); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	r := og.Requests()[2]
	if r.Path != "/v2/alerts/dpcops:dpc-learning:prod:Alert-COPY-Error:3/close" || r.Query != "identifierType=alias" {
		t.Errorf("close request %s?%s", r.Path, r.Query)
	}
	var c map[string]string
	if err := json.Unmarshal(r.Body, &c); err != nil || c["source"] != "dpc-learning/prod" || !strings.HasPrefix(c["note"], "Alarm back to OK.") {
		t.Errorf("close body %s (%v)", r.Body, err)
	}
	al := og.Alerts()
	if len(al) != 1 || al[0].Count != 2 || !al[0].Closed {
		t.Errorf("trigger and repeat share the alias (one alert, count 2) and the resolve closes it: %+v", al)
	}
}

func TestPriorityAndLimits(t *testing.T) {
	for sev, want := range map[string]string{"critical": "P1", "error": "P2", "warning": "P3", "info": "P5", "": "P3"} {
		if got := opsgenie.Priority(sev); got != want {
			t.Errorf("Priority(%q) = %q, want %q", sev, got, want)
		}
	}
	d := notifytest.Sample(notify.KindTrigger)
	d.Message.Alarm = strings.Repeat("警", 300)
	d.DedupKey = strings.Repeat("k", 600)
	a := opsgenie.Build(d, strings.Repeat("s", 200))
	if len([]rune(a.Message)) > 130 || len(a.Alias) > 512 || len([]rune(a.Source)) > 100 {
		t.Errorf("message %d chars, alias %d bytes, source %d chars: over OpsGenie's limits", len([]rune(a.Message)), len(a.Alias), len([]rune(a.Source)))
	}
}

func TestRegionEndpoints(t *testing.T) {
	for region, want := range map[string]string{"us": "https://api.opsgenie.com/v2/alerts", "eu": "https://api.eu.opsgenie.com/v2/alerts"} {
		rt := &notifytest.Transport{}
		ch := &spec.Channel{Name: "opsgenie", Type: spec.ChannelOpsGenie, APIKey: apiKey, Region: region}
		if _, err := opsgenie.New(ch, "src", &http.Client{Transport: rt}).Notify(context.Background(), notifytest.Sample(notify.KindTrigger)); err != nil {
			t.Fatal(err)
		}
		if len(rt.URLs()) != 1 || rt.URLs()[0] != want {
			t.Errorf("region %s: sent to %v, want %s", region, rt.URLs(), want)
		}
	}
}

// TestAnswersAndSecrets also sends through a relay whose url holds a
// token in its path (url may point at a proxy): neither the API key
// (sent as "GenieKey KEY") nor that token may survive a receiver that
// echoes them.
func TestAnswersAndSecrets(t *testing.T) {
	notifytest.CheckHTTPIntegration(t, build, notify.KindTrigger, apiKey)
	notifytest.CheckHTTPIntegration(t, build, notify.KindResolve, apiKey)
	const relayToken = "relayPATHtoken0042"
	relay := func(base string) notify.Notifier { return build(base + "/relay/" + relayToken) }
	notifytest.CheckHTTPIntegration(t, relay, notify.KindTrigger, apiKey, relayToken)
	notifytest.CheckHTTPIntegration(t, relay, notify.KindResolve, apiKey, relayToken)
}
