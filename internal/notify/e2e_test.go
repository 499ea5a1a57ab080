package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dpc-learning/dpcops/examples"
	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/channels"
	"github.com/dpc-learning/dpcops/internal/notify/notifytest"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

// TestEndToEndOnPostgres runs the local example's design on a real
// PostgreSQL: rows in ops.load_errors → the collector → the alarm engine
// (OnTransition = the outbox) → the worker → Slack and OpsGenie get the
// COPY error, PagerDuty does not; when the errors stop the alarm resolves
// and OpsGenie's alert is closed by its alias. The engine runs on a clock
// the test moves, so the 5-minute periods pass at once.
func TestEndToEndOnPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DB(t)
	slack := notifytest.NewReceiver(t, notifytest.Always(200, "ok"))
	pd := notifytest.NewPagerDuty(t, pdKey)
	og := notifytest.NewOpsGenie(t, ogKey)
	env := map[string]string{
		"DPCOPS_WAREHOUSE_DSN": dsn, "SLACK_WEBHOOK_URL": slack.URL + "/services/" + slackToken,
		"PD_ROUTING_KEY": pdKey, "PD_URL": pd.URL, "OPSGENIE_API_KEY": ogKey, "OG_URL": og.URL,
	}
	y := string(examples.LocalPostgres)
	y = strings.Replace(y, "routing_key: ${PD_ROUTING_KEY}\n", "routing_key: ${PD_ROUTING_KEY}\n    url: ${PD_URL}\n", 1)
	y = strings.Replace(y, "api_key: ${OPSGENIE_API_KEY}\n", "api_key: ${OPSGENIE_API_KEY}\n    url: ${OG_URL}\n", 1)
	s, diags := spec.Parse("local-postgres.yaml", []byte(y), spec.Options{LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
	if diags.HasErrors() {
		t.Fatalf("spec: %v", diags.Errors())
	}
	for _, name := range []string{"slack", "pagerduty", "opsgenie"} {
		if ch, _ := s.Channel(name); !ch.Enabled.On() || (name != "slack" && !ch.URL.IsSet()) {
			t.Fatalf("channel %s is not set up: %+v", name, ch)
		}
	}

	w := collect.OpenWarehouse(s)
	t.Cleanup(func() { w.Close() })
	if err := w.(collect.Initializer).Init(ctx); err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t)
	col := collect.New(collect.Options{Spec: s, Store: st, Warehouse: w})

	clock := notifytest.NewClock(time.Now())
	ob := notify.NewOutbox(notify.OutboxOptions{Spec: s, Clock: clock})
	engine, err := alarm.New(alarm.Options{Spec: s, Store: st, Clock: clock, Delay: -1, OnTransition: ob.OnTransition})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := channels.Build(ctx, channels.Options{Spec: s, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	worker, err := notify.NewWorker(notify.WorkerOptions{Spec: s, Store: st, Notifiers: ns, Outbox: ob, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}

	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	_, err = db.Exec(ctx, `INSERT INTO ops.load_errors (file_name, line_number, column_name, error_code, error_message)
		VALUES ('s3://dpc/ef/2026-11.csv', 7, 'points', 1207, 'Invalid digit, Value ''x'''),
		       ('s3://dpc/ef/2026-11.csv', 9, 'points', 1207, 'Invalid digit, Value ''y''')`)
	if err != nil {
		t.Fatal(err)
	}
	res, err := col.Cycle(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	var at time.Time
	for _, rd := range res.Readings {
		if rd.Metric == "CopyErrorCount" && rd.Value == 2 {
			at = rd.Time
		}
	}
	if at.IsZero() {
		t.Fatalf("the collector did not count the two load errors: %+v", res.Readings)
	}

	// The 5-minute period that holds the reading ends: Alert-COPY-Error fires.
	period := 5 * time.Minute
	end := at.Truncate(period).Add(period)
	clock.Advance(end.Sub(clock.Now()))
	trs, err := engine.EvaluateOnce(ctx, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !hasTransition(trs, "Alert-COPY-Error", alarm.Alarm) {
		t.Fatalf("no COPY error alarm: %+v", trs)
	}
	if _, err := worker.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	if n := slack.Count(); n != 1 || !strings.Contains(string(slack.Requests()[0].Body), "Alert-COPY-Error") {
		t.Errorf("slack got %d messages", n)
	}
	al := og.Alerts()
	if len(al) != 1 || al[0].Alias != "dpcops:dpc-learning:local:Alert-COPY-Error:1" || al[0].Closed || al[0].Priority != "P1" {
		t.Fatalf("opsgenie alerts %+v", al)
	}
	if n := pd.Count(); n != 0 {
		t.Errorf("PagerDuty is only for ELT delay, got %d events", n)
	}

	// No new errors. The breaching period stays in the evaluation range
	// (N+2 periods, as CloudWatch keeps it) for a while, then the alarm
	// resolves.
	if _, err := col.Cycle(ctx, true); err != nil {
		t.Fatal(err)
	}
	resolved := false
	for i := 0; i < 4 && !resolved; i++ {
		clock.Advance(period)
		trs, err = engine.EvaluateOnce(ctx, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		resolved = hasTransition(trs, "Alert-COPY-Error", alarm.OK)
	}
	if !resolved {
		t.Fatal("the alarm did not resolve after the errors stopped")
	}
	if _, err := worker.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	al = og.Alerts()
	if len(al) != 1 || !al[0].Closed {
		t.Errorf("opsgenie alert not closed: %+v", al)
	}
	last := og.Requests()[len(og.Requests())-1]
	if last.Path != "/v2/alerts/dpcops:dpc-learning:local:Alert-COPY-Error:1/close" || last.Query != "identifierType=alias" {
		t.Errorf("closed with %s?%s", last.Path, last.Query)
	}
	if n := slack.Count(); n != 2 || !strings.Contains(string(slack.Requests()[1].Body), "RESOLVED") {
		t.Errorf("slack got %d messages, want the alarm and its resolve", n)
	}
	if n := pd.Count(); n != 0 {
		t.Errorf("PagerDuty got %d events", n)
	}
}

func hasTransition(trs []alarm.Transition, name string, to alarm.State) bool {
	for _, tr := range trs {
		if tr.Alarm == name && tr.To == to {
			return true
		}
	}
	return false
}
