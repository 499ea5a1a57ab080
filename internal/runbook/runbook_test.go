package runbook

import (
	"context"
	"database/sql"
	"flag"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dpc-learning/dpcops/examples"
	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestMain(m *testing.M) { pgtest.Run(m) }

func localSpec(t *testing.T, dsn string) *spec.Spec {
	t.Helper()
	y := strings.Replace(string(examples.LocalPostgres), "run_results: target/run_results.json", "run_results: testdata/run_results.json", 1)
	y = strings.Replace(y, "    threshold: 600\n", "    threshold: 1\n", 1)
	s, diags := spec.Parse("local.yaml", []byte(y), spec.Options{LookupEnv: func(k string) (string, bool) {
		if k == "DPCOPS_WAREHOUSE_DSN" {
			return dsn, true
		}
		return "", false
	}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return s
}

// TestTriageNamesEachCause stages an incident — a failed run, bad COPY rows
// from two files, a failing dbt model, a long query, Alert-COPY-Error in
// ALARM — and checks that triage names each cause with its next command.
func TestTriageNamesEachCause(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DB(t)
	s := localSpec(t, dsn)
	w := collect.OpenWarehouse(s)
	defer w.Close()
	if err := w.(collect.Initializer).Init(ctx); err != nil {
		t.Fatal(err)
	}
	db := pgtest.Connect(t, dsn)
	for _, q := range []string{
		`INSERT INTO ops.pipeline_runs (pipeline, started_at, finished_at, status, failed_step, error) VALUES
			('dpc-elt', now() - interval '20 minutes', now() - interval '19 minutes', 'failed', 'copy_raw_ef', 'COPY rejected 3 row(s)')`,
		`INSERT INTO ops.load_errors (file_name, line_number, column_name, error_code, error_message) VALUES
			('s3://dpc-learning-raw/ef/2026-11/131234561-007.csv', 41, 'points', 1207, 'Invalid digit, Value ''O'', Pos 0, Type: Integer'),
			('s3://dpc-learning-raw/ef/2026-11/131234561-007.csv', 12, 'service_date', 1205, 'Invalid Date Format'),
			('s3://dpc-learning-raw/form1/2026-11/271234562-008.csv', 3, '', 1214, 'Delimiter not found')`,
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	st := storetest.Open(t)
	incidents := NewIncidents(s, st)
	engine, err := alarm.New(alarm.Options{Spec: s, Store: st, Delay: -1, OnTransition: incidents.OnTransition})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(5 * time.Minute)
	if err := st.InsertDatapoints(ctx, []store.Datapoint{{Metric: "CopyErrorCount", Dims: "Environment=local", Time: now.Add(-2 * time.Minute), Value: 3}}); err != nil {
		t.Fatal(err)
	}
	if _, err := engine.EvaluateOnce(ctx, now); err != nil {
		t.Fatal(err)
	}
	sleeper, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	// Closed last: after the sleep is stopped and its goroutine is done.
	defer sleeper.Close(ctx)
	var wg sync.WaitGroup
	sleepCtx, stopSleep := context.WithCancel(ctx)
	defer func() { stopSleep(); wg.Wait() }()
	wg.Go(func() { sleeper.Exec(sleepCtx, "SELECT pg_sleep(60) -- readmissions within 30 days") })
	col := collect.New(collect.Options{Spec: s, Warehouse: w})
	deadline := time.Now().Add(15 * time.Second)
	var report *Report
	for {
		report, err = Triage(ctx, Sources{Spec: s, Store: st, Alarms: engine, Warehouse: w, Running: col.Running}, 2*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if len(report.Long) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	md := report.Markdown(s.Location())
	for _, want := range []string{
		"# Triage: dpc-learning (local)",
		"**[critical] Alert-COPY-Error is in ALARM**",
		"**[critical] run 1 of dpc-elt failed at step copy_raw_ef**",
		"Next: `fix or re-upload the rejected files (see load errors), then dpcops recover rerun-pipeline`",
		"**[critical] 2 rows of s3://dpc-learning-raw/ef/2026-11/131234561-007.csv rejected**",
		"line 12, column service_date: Invalid Date Format (error 1205)",
		"**[critical] 1 rows of s3://dpc-learning-raw/form1/2026-11/271234562-008.csv rejected**",
		"**[error] dbt model mart_los_by_dpc: error**",
		"Next: `dbt run --select mart_los_by_dpc, then dpcops recover rerun-pipeline`",
		"Next: `dbt test --select not_null_stg_episodes_dpc_code, then dpcops recover rerun-pipeline`",
		"readmissions within 30 days",
		"Next: `dpcops recover cancel-query ",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("missing %q in:\n%s", want, md)
		}
	}
	if len(report.Problems) != 0 {
		t.Errorf("problems: %v", report.Problems)
	}
	// The incident the alarm opened, with an action on its timeline.
	list, err := incidents.List(ctx, 10)
	if err != nil || len(list) != 1 || list[0].Alarm != "Alert-COPY-Error" || !list[0].Open() {
		t.Fatalf("incidents %+v %v", list, err)
	}
	if _, err := incidents.RecordAction(ctx, "Alert-COPY-Error", now.Add(time.Minute), "re-ran the pipeline: run 2", nil); err != nil {
		t.Fatal(err)
	}
	rec, err := Gather(ctx, incidents, Sources{Spec: s, Store: st, Alarms: engine, Warehouse: w, Now: func() time.Time { return now.Add(2 * time.Minute) }}, list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	out := rec.Markdown(s, now.Add(2*time.Minute))
	for _, want := range []string{"| action | re-ran the pipeline: run 2 |", "INSUFFICIENT_DATA → ALARM", "| Rows rejected by COPY during the incident | 3 |", "| Failed pipeline runs | 1 |"} {
		if !strings.Contains(out, want) {
			t.Errorf("export lacks %q:\n%s", want, out)
		}
	}
}

// TestIncidentLifecycleAndExportGolden seeds a store with an episode's
// transitions, deliveries and notes at fixed times and compares the
// Markdown export with testdata/incident.md.
func TestIncidentLifecycleAndExportGolden(t *testing.T) {
	ctx := context.Background()
	s := localSpec(t, "postgres://unused/db")
	st := storetest.Open(t)
	in := NewIncidents(s, st)
	t0 := time.Date(2026, 11, 27, 1, 5, 0, 0, time.UTC)
	fire := alarm.Transition{Alarm: "Alert-ELT-Delay", Time: t0, From: alarm.OK, To: alarm.Alarm, Episode: 4,
		Reason: "Threshold Crossed: 2 out of the last 2 datapoints [104.0, 99.0] were greater than the threshold (90.0)."}
	resolve := alarm.Transition{Alarm: "Alert-ELT-Delay", Time: t0.Add(35 * time.Minute), From: alarm.Alarm, To: alarm.OK, Episode: 4,
		Reason: "Threshold Crossed: 2 out of the last 2 datapoints [3.0, 1.0] were not greater than the threshold (90.0)."}
	for i, tr := range []alarm.Transition{fire, resolve} {
		err := st.WriteTx(ctx, func(tx *sql.Tx) error {
			var id int64
			if err := tx.QueryRow(`INSERT INTO alarm_history (alarm, at, from_state, to_state, reason, episode) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
				tr.Alarm, store.Millis(tr.Time), string(tr.From), string(tr.To), tr.Reason, tr.Episode).Scan(&id); err != nil {
				return err
			}
			if i == 0 {
				for j, ch := range []string{"slack", "pagerduty"} {
					if _, err := tx.Exec(`INSERT INTO outbox (channel, kind, alarm, transition_id, dedup_key, payload, state, attempts, next_attempt_at, sent_at, created_at)
						VALUES (?, 'trigger', ?, ?, 'Alert-ELT-Delay/4', '{}', 'sent', ?, 0, ?, ?)`, ch, tr.Alarm, id, j+1, store.Millis(tr.Time.Add(time.Duration(j+1)*time.Second)), store.Millis(tr.Time)); err != nil {
						return err
					}
				}
			}
			return in.OnTransition(ctx, tx, tr)
		})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if claimed, err := in.ClaimAction(ctx, "Alert-ELT-Delay", 4, t0.Add(90*time.Second), "rerun-pipeline: run 118 started"); err != nil || !claimed {
				t.Fatalf("first claim: %v %v", claimed, err)
			}
			if claimed, _ := in.ClaimAction(ctx, "Alert-ELT-Delay", 4, t0.Add(2*time.Minute), "rerun-pipeline: run 118 started"); claimed {
				t.Fatal("an action must run once per episode")
			}
			if err := in.Note(ctx, 1, t0.Add(10*time.Minute), "dbt model mart_los_by_dpc fixed | re-ran by hand"); err != nil {
				t.Fatal(err)
			}
		}
	}
	inc, err := in.Get(ctx, 1)
	if err != nil || inc.Open() || inc.Episode != 4 {
		t.Fatalf("incident %+v %v", inc, err)
	}
	if _, err := in.Get(ctx, 99); err == nil {
		t.Error("an unknown incident must be an error")
	}
	rec, err := Gather(ctx, in, Sources{Spec: s, Store: st, Now: func() time.Time { return t0.Add(time.Hour) }}, 1)
	if err != nil {
		t.Fatal(err)
	}
	rec.LoadErrors = []FileErrors{{File: "s3://dpc-learning-raw/ef/2026-11/131234561-007.csv", Rows: 2,
		Examples: []backend.LoadErrorRow{{Line: 12, Column: "points", Code: 1207, Message: "Invalid digit, Value 'O'"}}}}
	rec.Unavailable = nil
	got := rec.Markdown(s, t0.Add(time.Hour))
	golden := "testdata/incident.md"
	if *update {
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("export differs from %s (run with -update to accept):\n%s", golden, got)
	}
}

// TestActorRerunsOncePerEpisodeAfterThePage checks the rerun-pipeline
// action: not before the page leaves the outbox, then once per episode.
func TestActorRerunsOncePerEpisodeAfterThePage(t *testing.T) {
	ctx := context.Background()
	s := localSpec(t, "postgres://unused/db")
	a, _ := s.Alarm("Alert-ELT-Delay")
	a.Actions = []string{"rerun-pipeline"}
	// A second alarm with the action: acting on the first must not keep
	// the second from its own.
	c, _ := s.Alarm("Alert-COPY-Error")
	c.Actions = []string{"rerun-pipeline"}
	st := storetest.Open(t)
	in := NewIncidents(s, st)
	page := func(tx *sql.Tx, tr alarm.Transition) error {
		_, err := tx.Exec(`INSERT INTO outbox (channel, kind, alarm, transition_id, dedup_key, payload, state, next_attempt_at, created_at)
			VALUES ('pagerduty', 'trigger', ?, ?, ?, '{}', 'pending', 0, 0)`, tr.Alarm, tr.ID, "k-"+tr.Alarm)
		return err
	}
	engine, err := alarm.New(alarm.Options{Spec: s, Store: st, Delay: -1, OnTransition: func(ctx context.Context, tx *sql.Tx, tr alarm.Transition) error {
		if tr.To == alarm.Alarm {
			if err := page(tx, tr); err != nil {
				return err
			}
		}
		return in.OnTransition(ctx, tx, tr)
	}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	var dps []store.Datapoint
	for i := 0; i < 3; i++ {
		dps = append(dps, store.Datapoint{Metric: "ELTExecutionDelay", Dims: "Environment=local", Time: t0.Add(-time.Duration(i*5+1) * time.Minute), Value: 120})
	}
	st.InsertDatapoints(ctx, dps)
	if _, err := engine.EvaluateOnce(ctx, t0); err != nil {
		t.Fatal(err)
	}
	reruns := 0
	now := t0.Add(10 * time.Second)
	actor := &Actor{Spec: s, Store: st, Alarms: engine, Incidents: in, Now: func() time.Time { return now },
		Rerun: func(context.Context) (string, error) { reruns++; return "run 7", nil }}
	if err := actor.Check(ctx); err != nil || reruns != 0 {
		t.Fatalf("before the page is sent: %d reruns, %v", reruns, err)
	}
	st.WriteTx(ctx, func(tx *sql.Tx) error { _, err := tx.Exec(`UPDATE outbox SET state = 'sent'`); return err })
	for i := 0; i < 3; i++ {
		if err := actor.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if reruns != 1 {
		t.Fatalf("%d reruns in one episode, want 1", reruns)
	}
	// The ELT delay stays in ALARM (acted on); COPY errors now alarm too.
	st.InsertDatapoints(ctx, []store.Datapoint{
		{Metric: "ELTExecutionDelay", Dims: "Environment=local", Time: t0.Add(time.Minute), Value: 120},
		{Metric: "ELTExecutionDelay", Dims: "Environment=local", Time: t0.Add(4 * time.Minute), Value: 125},
		{Metric: "CopyErrorCount", Dims: "Environment=local", Time: t0.Add(2 * time.Minute), Value: 3},
	})
	if _, err := engine.EvaluateOnce(ctx, t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	states, _ := engine.States(ctx)
	for _, x := range states {
		if (x.Alarm == "Alert-ELT-Delay" || x.Alarm == "Alert-COPY-Error") && x.State != alarm.Alarm {
			t.Fatalf("%s is %s, want ALARM", x.Alarm, x.State)
		}
	}
	st.WriteTx(ctx, func(tx *sql.Tx) error { _, err := tx.Exec(`UPDATE outbox SET state = 'sent'`); return err })
	now = t0.Add(5*time.Minute + 10*time.Second)
	if err := actor.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if reruns != 2 {
		t.Fatalf("%d reruns, want 2: one per alarm and episode", reruns)
	}
	inc, _ := in.Get(ctx, 1)
	evs, _ := in.Timeline(ctx, inc, now)
	var texts []string
	for _, e := range evs {
		texts = append(texts, e.Text)
	}
	if !slices.Contains(texts, "rerun-pipeline: run 7") {
		t.Errorf("timeline %v", texts)
	}
}

// TestOneActionPerEpisodeIsTheDatabasesRule: whatever a writer counted
// first, the store refuses a second claim of an episode's action (a
// unique index), on either database; ClaimAction takes that refusal for
// "claimed already", and other action events repeat freely.
func TestOneActionPerEpisodeIsTheDatabasesRule(t *testing.T) {
	ctx := context.Background()
	s := localSpec(t, "postgres://unused/db")
	open := storetest.Opener(t)
	st := open()
	in := NewIncidents(s, st)
	var id int64
	insert := func(text string) error {
		return st.WriteTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO incident_events (incident_id, at, kind, text) VALUES (?, 1, 'action', ?)`, id, text)
			return err
		})
	}
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRow(`INSERT INTO incidents (alarm, episode, title, opened_at) VALUES ('Alert-ELT-Delay', 3, 't', 1) RETURNING id`).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := insert("rerun-pipeline: run 7"); err != nil {
			t.Fatalf("an action's outcome, twice: %v", err)
		}
	}
	// A writer that counted none claims it behind ClaimAction's back.
	if err := insert("rerun-pipeline started"); err != nil {
		t.Fatal(err)
	}
	if err := insert("rerun-pipeline started"); !store.UniqueViolation(err) {
		t.Errorf("a second claim of the episode: %v", err)
	}
	if ok, err := in.ClaimAction(ctx, "Alert-ELT-Delay", 3, time.Now(), "rerun-pipeline started"); ok || err != nil {
		t.Errorf("ClaimAction of a claimed episode: %v, %v", ok, err)
	}
	// Writers on four store handles (replicas) claim one episode at once:
	// one acts, the others are told it was claimed, none fails.
	err = st.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO incidents (alarm, episode, title, opened_at) VALUES ('Alert-ELT-Delay', 4, 't', 1)`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	claims := 0
	start := make(chan struct{})
	for range 4 {
		in := NewIncidents(s, open())
		wg.Go(func() {
			<-start
			ok, err := in.ClaimAction(ctx, "Alert-ELT-Delay", 4, time.Now(), "rerun-pipeline started")
			if err != nil {
				t.Errorf("a claim beside others: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if ok {
				claims++
			}
		})
	}
	close(start)
	wg.Wait()
	if claims != 1 {
		t.Errorf("%d replicas claimed the episode's action, want 1", claims)
	}
}

// TestComputeAlarmsPointAtTheHeavyQuery: an alarm on the compute in use,
// per minute (the default RPU spike) or as AWS averages it, sends the
// on-call engineer to the long queries.
func TestComputeAlarmsPointAtTheHeavyQuery(t *testing.T) {
	s, diags := spec.Default(spec.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	a, _ := s.Alarm("Alert-RPU-Spike")
	if f := alarmFinding(s, a, AlarmNow{Name: a.Name}); !strings.Contains(f.Next, "cancel-query") {
		t.Errorf("%s (metric %s): next %q", a.Name, a.Metric, f.Next)
	}
	b := *a
	b.Metric = "ComputeCapacity"
	if f := alarmFinding(s, &b, AlarmNow{Name: b.Name}); !strings.Contains(f.Next, "cancel-query") {
		t.Errorf("on ComputeCapacity: next %q", f.Next)
	}
}

// TestLogDetailSplitsIntoColumns: a server log line's user, SQLSTATE and
// statement land in triage's columns, not glued onto the query.
func TestLogDetailSplitsIntoColumns(t *testing.T) {
	for in, want := range map[string]logDetail{
		"user=analyst db=dpc sqlstate=42P01 statement=SELECT * FROM mart.los_by_dpc WHERE x = 'a b'": {
			user: "analyst", db: "dpc", sqlstate: "42P01", statement: "SELECT * FROM mart.los_by_dpc WHERE x = 'a b'"},
		"sqlstate=57014":          {sqlstate: "57014"},
		"":                        {},
		"statement=VACUUM user=x": {statement: "VACUUM user=x"},
	} {
		if got := parseLogDetail(in); got != want {
			t.Errorf("parseLogDetail(%q) = %+v, want %+v", in, got, want)
		}
	}
}

// TestTriageFailedQueriesHaveColumns: on PostgreSQL the server log's
// errors become failed queries with their user, their SQLSTATE beside the
// message and the statement alone as the query.
func TestTriageFailedQueriesHaveColumns(t *testing.T) {
	ctx := context.Background()
	s := localSpec(t, "postgres://unused/db")
	st := storetest.Open(t)
	now := time.Now().UTC()
	err := st.WriteCycle(ctx, store.CycleWrite{Logs: []store.LogLine{{Time: now.Add(-time.Minute), Source: "postgres", Severity: "ERROR",
		Message: `relation "mart.x" does not exist`, Detail: "user=analyst db=dpc sqlstate=42P01 statement=SELECT 1 FROM mart.x"}}})
	if err != nil {
		t.Fatal(err)
	}
	r := &Report{Since: now.Add(-time.Hour)}
	r.logErrors(ctx, Sources{Spec: s, Store: st})
	if len(r.Failed) != 1 {
		t.Fatalf("failed queries %+v", r.Failed)
	}
	if q := r.Failed[0]; q.User != "analyst" || q.Text != "SELECT 1 FROM mart.x" || q.Error != `relation "mart.x" does not exist (SQLSTATE 42P01)` {
		t.Errorf("failed query %+v", q)
	}
}
