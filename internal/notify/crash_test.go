package notify_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/channels"
	"github.com/dpc-learning/dpcops/internal/notify/inbox"
	"github.com/dpc-learning/dpcops/internal/notify/notifytest"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// crashChildEnv names the data directory of a child process that sends
// and is killed before it marks.
const crashChildEnv = "DPCOPS_NOTIFY_CRASH_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		os.Exit(crashChild(dir))
	}
	pgtest.Run(m)
}

const crashSpec = `platform: dpc-learning
environment: prod
warehouse: {engine: postgres, dsn: "postgres://h/db"}
metrics:
  - {name: CopyErrorCount, source: load_errors}
  - {name: ELTExecutionDelay, source: elt_delay}
alarms:
  - {name: Alert-ELT-Delay, metric: ELTExecutionDelay, statistic: Maximum, period: 5m, comparison: GreaterThanThreshold,
     threshold: 90, severity: critical, topics: [dpc-alerts]}
  - {name: Alert-COPY-Error, metric: CopyErrorCount, statistic: Sum, period: 5m, comparison: GreaterThanOrEqualToThreshold,
     threshold: 1, severity: critical, topics: [dpc-alerts]}
topics:
  dpc-alerts:
    subscriptions:
      - inbox
      - slack
      - {channel: pagerduty, filter: {alarm: [Alert-ELT-Delay]}}
      - {channel: opsgenie, filter: {alarm: [Alert-COPY-Error]}}
channels:
  inbox: {type: inbox}
  slack: {type: slack, webhook_url: "${SLACK_URL}"}
  pagerduty: {type: pagerduty, routing_key: "${PD_KEY}", url: "${PD_URL}"}
  opsgenie: {type: opsgenie, api_key: "${OG_KEY}", url: "${OG_URL}"}
`

// crashParts opens what parent and child share: the spec (from the
// environment) and the store in dir.
func crashParts(ctx context.Context, dir string, lookup func(string) (string, bool)) (*spec.Spec, *store.Store, map[string]notify.Notifier, error) {
	s, diags := spec.Parse("crash.yaml", []byte(crashSpec), spec.Options{LookupEnv: lookup})
	if diags.HasErrors() {
		return nil, nil, nil, fmt.Errorf("spec: %v", diags.Errors())
	}
	st, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		return nil, nil, nil, err
	}
	ns, err := channels.Build(ctx, channels.Options{Spec: s, Store: st})
	if err != nil {
		return nil, nil, nil, err
	}
	return s, st, ns, nil
}

// crashChild claims and sends every due row, prints "sent ID" after each
// send, and then never marks it: it waits to be killed.
func crashChild(dir string) int {
	ctx := context.Background()
	s, st, ns, err := crashParts(ctx, dir, os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	w, err := notify.NewWorker(notify.WorkerOptions{Spec: s, Store: st, Notifiers: ns})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	out := make(chan int64)
	w.SetAfterSend(func(d *notify.Delivery) {
		out <- d.ID
		select {} // killed here, between the send and the mark
	})
	go w.DeliverDue(ctx)
	for id := range out {
		fmt.Printf("sent %d\n", id)
	}
	return 0
}

func TestKilledBetweenSendAndMark(t *testing.T) {
	ctx := context.Background()
	slack := notifytest.NewReceiver(t, notifytest.Always(200, "ok"))
	pd := notifytest.NewPagerDuty(t, pdKey)
	og := notifytest.NewOpsGenie(t, ogKey)
	env := map[string]string{"SLACK_URL": slack.URL + "/services/" + slackToken, "PD_KEY": pdKey, "PD_URL": pd.URL,
		"OG_KEY": ogKey, "OG_URL": og.URL}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	dir := t.TempDir()

	// The transitions and the six rows they owe, committed before the child runs.
	s, st, _, err := crashParts(ctx, dir, lookup)
	if err != nil {
		t.Fatal(err)
	}
	ob := notify.NewOutbox(notify.OutboxOptions{Spec: s})
	for _, name := range []string{"Alert-ELT-Delay", "Alert-COPY-Error"} {
		tr := alarm.Transition{Alarm: name, Time: time.Now(), From: alarm.OK, To: alarm.Alarm, Episode: 1, ReasonData: []byte("{}")}
		if err := commitTransition(ctx, st, ob.OnTransition, &tr); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	// The child sends all six and is killed with SIGKILL before marking.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	sent := 0
	for sent < 6 && lines.Scan() {
		if strings.HasPrefix(lines.Text(), "sent ") {
			sent++
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if sent != 6 {
		t.Fatalf("the child sent %d of 6 before dying; stderr:\n%s", sent, stderr.String())
	}

	// What the crash left: six rows claimed and not marked.
	s, st, ns, err := crashParts(ctx, dir, lookup)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := notify.List(ctx, st.Reader(), notify.Query{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if rec.State != "sending" || rec.Attempts != 1 {
			t.Fatalf("after the crash: %+v", rec)
		}
	}

	// A second worker, once the lease has passed, finishes with the same keys.
	clock := notifytest.NewClock(time.Now().Add(time.Minute))
	reg := prometheus.NewRegistry()
	w, err := notify.NewWorker(notify.WorkerOptions{Spec: s, Store: st, Notifiers: ns, Clock: clock, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := w.DeliverDue(ctx)
	if err != nil || stats.Sent != 6 || stats.Resent != 6 {
		t.Fatalf("second worker: %+v %v", stats, err)
	}
	recs, _ = notify.List(ctx, st.Reader(), notify.Query{})
	for _, rec := range recs {
		if rec.State != "sent" || rec.Resends != 1 || rec.Attempts != 2 {
			t.Errorf("after the second worker: %+v", rec)
		}
	}
	// PagerDuty and OpsGenie fold the resend into the same incident.
	if inc := pd.Incidents(); len(inc) != 1 || inc[0].Events != 2 || inc[0].DedupKey != key("Alert-ELT-Delay", 1) {
		t.Errorf("pagerduty incidents %+v, want one incident with both events", inc)
	}
	if al := og.Alerts(); len(al) != 1 || al[0].Count != 2 || al[0].Alias != key("Alert-COPY-Error", 1) {
		t.Errorf("opsgenie alerts %+v, want one alert with count 2", al)
	}
	// Slack cannot tell: its duplicates are the counted resends.
	if n := slack.Count(); n != 4 {
		t.Errorf("slack got %d messages, want 2 and their 2 resends", n)
	}
	if got := testutil.ToFloat64(w.Metrics().Resends.WithLabelValues("slack")); got != 2 {
		t.Errorf("dpcops_notify_resends_total{slack} = %v, want 2", got)
	}
	// The inbox keys its rows by delivery: no duplicate there.
	if items, err := inbox.List(ctx, st.Reader(), inbox.Query{}); err != nil || len(items) != 2 {
		t.Errorf("inbox has %d messages (%v), want 2", len(items), err)
	}
}
