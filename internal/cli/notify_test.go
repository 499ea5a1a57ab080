package cli

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/channels"
	"github.com/dpc-learning/dpcops/internal/notify/notifytest"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

const notifySpec = `platform: dpc-learning
environment: prod
warehouse: {engine: postgres, dsn: "postgres://h/db"}
metrics:
  - {name: CopyErrorCount, source: load_errors}
alarms:
  - {name: Alert-COPY-Error, metric: CopyErrorCount, statistic: Sum, period: 5m, comparison: GreaterThanOrEqualToThreshold,
     threshold: 1, severity: critical, topics: [dpc-alerts]}
topics:
  dpc-alerts: {subscriptions: [slack, pagerduty, inbox]}
channels:
  slack: {type: slack, webhook_url_file: %q}
  pagerduty: {type: pagerduty, routing_key_file: %q, url: %q}
  inbox: {type: inbox}
  quiet: {type: slack, enabled: false}
`

const cliSlackToken = "T0CLI/B0CLI/cliSLACKsecret"

// notifyEnv writes a spec whose slack and pagerduty channels point at
// local receivers, with their secrets in files.
func notifyEnv(t *testing.T, slack *notifytest.Receiver, pd *notifytest.PagerDuty) string {
	t.Helper()
	hook := writeFile(t, "slack-url", slack.URL+"/services/"+cliSlackToken)
	key := writeFile(t, "pd-key", "cliPDroutingKEY")
	return writeFile(t, "dpcops.yaml", fmt.Sprintf(notifySpec, hook, key, pd.URL))
}

func TestNotifyTestSendsAMarkedMessage(t *testing.T) {
	slack := notifytest.NewReceiver(t, notifytest.Always(200, "ok"))
	pd := notifytest.NewPagerDuty(t, "cliPDroutingKEY")
	cfg := notifyEnv(t, slack, pd)

	r := run(t, "", "-c", cfg, "notify", "test", "slack")
	if r.code != 0 || r.stdout != "slack (slack): test message delivered: 200 ok\n" {
		t.Fatalf("%+v", r)
	}
	if body := string(slack.Requests()[0].Body); !strings.Contains(body, "[TEST]") || !strings.Contains(body, "No action is needed") {
		t.Errorf("the test message is not marked as one: %s", body)
	}

	// PagerDuty: the test incident is opened and resolved at once.
	r = run(t, "", "-c", cfg, "notify", "test", "pagerduty")
	if r.code != 0 || !strings.Contains(r.stdout, "test message delivered: 202") || !strings.Contains(r.stdout, "resolve of the test message delivered: 202") {
		t.Fatalf("%+v", r)
	}
	if inc := pd.Incidents(); len(inc) != 1 || !inc[0].Resolved || inc[0].Severity != "info" {
		t.Errorf("incidents %+v", inc)
	}

	// The inbox keeps it in the store.
	data := t.TempDir()
	if r = run(t, "", "-c", cfg, "notify", "test", "inbox", "--data", data); r.code != 0 || !strings.Contains(r.stdout, "delivered: 200 stored") {
		t.Fatalf("%+v", r)
	}
}

func TestNotifyTestFailures(t *testing.T) {
	slack := notifytest.NewReceiver(t, notifytest.Always(410, "channel_is_archived"))
	pd := notifytest.NewPagerDuty(t, "cliPDroutingKEY")
	cfg := notifyEnv(t, slack, pd)
	tests := []struct {
		args     []string
		code     int
		stdout   string
		stderrIn string
	}{
		{[]string{"slack"}, 1, "slack (slack): test message NOT delivered: 410 channel_is_archived\n", "a retry would not help"},
		{[]string{"quiet"}, 1, "", "channel quiet is off (enabled: false)"},
		{[]string{"nope"}, 1, "", `no channel "nope" in the spec (channels: slack, pagerduty, inbox, quiet)`},
		{[]string{}, 2, "", "accepts 1 arg"},
	}
	for _, tt := range tests {
		r := run(t, "", append([]string{"-c", cfg, "notify", "test"}, tt.args...)...)
		if r.code != tt.code || r.stdout != tt.stdout || !strings.Contains(r.stderr, tt.stderrIn) {
			t.Errorf("%v: %+v", tt.args, r)
		}
		if strings.Contains(r.stdout+r.stderr, "cliSLACKsecret") || strings.Contains(r.stdout+r.stderr, "cliPDroutingKEY") {
			t.Errorf("%v: a secret was printed: %+v", tt.args, r)
		}
	}
}

func TestNotifyListAndRetry(t *testing.T) {
	ctx := context.Background()
	slack := notifytest.NewReceiver(t, notifytest.Always(410, "channel_is_archived"))
	pd := notifytest.NewPagerDuty(t, "cliPDroutingKEY")
	cfg := notifyEnv(t, slack, pd)
	data := t.TempDir()

	// A transition to ALARM and a delivery round in which Slack refuses.
	s, diags, err := spec.Load(cfg, spec.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil || diags.HasErrors() {
		t.Fatal(err, diags)
	}
	st, err := store.Open(ctx, data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ob := notify.NewOutbox(notify.OutboxOptions{Spec: s})
	err = st.WriteTx(ctx, func(tx *sql.Tx) error {
		return ob.OnTransition(ctx, tx, alarm.Transition{Alarm: "Alert-COPY-Error", Time: time.Now(), From: alarm.OK, To: alarm.Alarm, Episode: 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := channels.Build(ctx, channels.Options{Spec: s, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	w, err := notify.NewWorker(notify.WorkerOptions{Spec: s, Store: st, Notifiers: ns, Outbox: ob})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()

	r := run(t, "", "notify", "list", "--data", data)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 4 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("%+v", r)
	}
	r = run(t, "", "notify", "list", "--data", data, "--state", "failed")
	lines = strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 2 || !strings.Contains(lines[1], "failed") || !strings.Contains(lines[1], "slack") ||
		!strings.Contains(lines[1], "410") || !strings.Contains(lines[1], "channel_is_archived") {
		t.Fatalf("failed deliveries: %+v", r)
	}
	id := strings.Fields(lines[1])[0]

	if r = run(t, "", "notify", "retry", id, "--data", data); r.code != 0 || r.stdout != "delivery "+id+" is pending again\n" {
		t.Fatalf("%+v", r)
	}
	if r = run(t, "", "notify", "list", "--data", data, "--state", "pending"); !strings.Contains(r.stdout, "slack") {
		t.Errorf("after retry: %+v", r)
	}
	if r = run(t, "", "notify", "retry", id, "--data", data); r.code != 1 || !strings.Contains(r.stderr, "only a failed or expired delivery can be retried") {
		t.Errorf("retry of a pending delivery: %+v", r)
	}
	if r = run(t, "", "notify", "retry", "999", "--data", data); r.code != 1 || !strings.Contains(r.stderr, "no such delivery") {
		t.Errorf("retry of an unknown delivery: %+v", r)
	}
	if r = run(t, "", "notify", "list", "--data", data, "--state", "lost"); r.code != 2 {
		t.Errorf("bad --state: %+v", r)
	}
	if r = run(t, "", "notify", "list", "--data", filepath.Join(data, "none")); r.code != 1 {
		t.Errorf("missing store: %+v", r)
	}
}
