package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/store"
)

// runWithDSN runs dpcops with DPCOPS_WAREHOUSE_DSN set.
func runWithDSN(t *testing.T, dsn string, args ...string) result {
	t.Helper()
	return runWithDSNCtx(context.Background(), t, dsn, args...)
}

func runWithDSNCtx(ctx context.Context, t *testing.T, dsn string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := mainWithEnv(ctx, args, IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, "v-test",
		func(k string) (string, bool) { return dsn, k == "DPCOPS_WAREHOUSE_DSN" })
	return result{code, out.String(), errb.String()}
}

// fakeClock moves only when maintenance sleeps, and runs onSleep after
// each sleep with the number of sleeps so far.
type fakeClock struct {
	now     time.Time
	sleeps  int
	onSleep func(n int)
}

// context returns a context that makes 'maintenance run' wait by c.
func (c *fakeClock) context() context.Context {
	return context.WithValue(context.Background(), runClockKey{}, runClock{
		now: func() time.Time { return c.now },
		sleep: func(ctx context.Context, d time.Duration) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			c.now = c.now.Add(d)
			c.sleeps++
			if c.onSleep != nil {
				c.onSleep(c.sleeps)
			}
			return nil
		},
	})
}

// execAll runs statements on db, failing the test on the first error.
func execAll(t *testing.T, db *pgx.Conn, sqls ...string) {
	t.Helper()
	for _, sql := range sqls {
		if _, err := db.Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// bloatedTable creates public.bloated with half its 5000 rows dead, and
// makes the statistics show it at once.
func bloatedTable(t *testing.T, db *pgx.Conn) {
	t.Helper()
	execAll(t, db,
		`CREATE TABLE bloated (id int PRIMARY KEY, pad text) WITH (autovacuum_enabled = false)`,
		`INSERT INTO bloated SELECT i, 'x' FROM generate_series(1, 5000) i`,
		`SELECT pg_stat_force_next_flush()`,
		`ANALYZE bloated`,
		`DELETE FROM bloated WHERE id % 2 = 0`,
		`SELECT pg_stat_force_next_flush()`,
	)
}

func TestMaintenanceRunWaitsForAnOpenPipelineRun(t *testing.T) {
	dsn := pgtest.DB(t)
	ctx := context.Background()
	db := pgtest.Connect(t, dsn)
	cfg := "../../examples/local-postgres.yaml"
	if r := runWithDSN(t, dsn, "warehouse", "init", "-c", cfg); r.code != 0 {
		t.Fatalf("warehouse init: %+v", r)
	}
	bloatedTable(t, db)
	execAll(t, db, `INSERT INTO ops.pipeline_runs (pipeline, status, started_at) VALUES ('dpc-elt', 'running', '2026-11-29 03:55:00+00')`)
	vacuums := func() (n int64) {
		if err := db.QueryRow(ctx, `SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'bloated'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	data := t.TempDir()
	open := "a pipeline run is open (pipeline dpc-elt run 1, started 2026-11-29T12:55:00+09:00)"
	clock := &fakeClock{now: time.Date(2026, 11, 29, 4, 0, 0, 0, time.UTC)}

	// --wait 0 skips at once, says why, and exits 3.
	r := runWithDSNCtx(clock.context(), t, dsn, "maintenance", "run", "--job", "weekly-vacuum", "--wait", "0", "--data", data, "-c", cfg)
	if r.code != 3 || !strings.Contains(r.stderr, "dpcops: job weekly-vacuum skipped: "+open+"; not waiting for it to end (wait 0); 1 planned statement(s) not run\n") ||
		!strings.Contains(r.stdout, "skipped") {
		t.Fatalf("--wait 0: %+v", r)
	}
	if clock.sleeps != 0 || vacuums() != 0 {
		t.Fatalf("--wait 0 slept %d times and vacuumed %d times; want neither", clock.sleeps, vacuums())
	}

	// A wait that ends before the run does: skipped, after saying what it
	// waited for and how long it had waited.
	r = runWithDSNCtx(clock.context(), t, dsn, "maintenance", "run", "--job", "weekly-vacuum", "--wait", "1m", "--data", data, "-c", cfg)
	if r.code != 3 || !strings.Contains(r.stderr, "dpcops: job weekly-vacuum skipped: "+open+"; waited 1m0s for it to end") {
		t.Fatalf("--wait 1m: %+v", r)
	}

	// A run that ends while maintenance waits lets the job run; stderr
	// says at once what it waits for and for how long at most, then every
	// minute how long it has waited.
	clock.sleeps = 0
	clock.onSleep = func(n int) {
		if n == 6 { // 90 s into the wait
			execAll(t, db, `UPDATE ops.pipeline_runs SET status = 'succeeded', finished_at = now()`)
		}
	}
	start := clock.now
	r = runWithDSNCtx(clock.context(), t, dsn, "maintenance", "run", "--job", "weekly-vacuum", "--wait", "2m", "--data", data, "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "succeeded") || vacuums() != 1 {
		t.Fatalf("--wait 2m with the run ending after 90s: %+v", r)
	}
	for _, w := range []string{
		`msg="maintenance waits for an open pipeline run to end before it starts" job=weekly-vacuum pipeline=dpc-elt run=1 started=2026-11-29T12:55:00+09:00 at_most=2m0s looks_every=15s`,
		`msg="maintenance still waits for the pipeline run to end" job=weekly-vacuum pipeline=dpc-elt run=1 started=2026-11-29T12:55:00+09:00 waited=1m0s left=1m0s`,
		`msg="the pipeline run ended; maintenance starts" job=weekly-vacuum waited=1m30s`,
	} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %s:\n%s", w, r.stderr)
		}
	}
	if got := clock.now.Sub(start); got != 90*time.Second {
		t.Errorf("waited %v on the clock, want 1m30s", got)
	}

	if r := runWithDSN(t, dsn, "maintenance", "run", "--wait", "-1s", "--data", data, "-c", cfg); r.code != 2 || !strings.Contains(r.stderr, "--wait: want a duration of 0 or more") {
		t.Errorf("negative --wait: %+v", r)
	}
	if r := run(t, "", "maintenance", "run", "--help"); !strings.Contains(r.stdout, "--wait duration") ||
		!strings.Contains(strings.Join(strings.Fields(r.stdout), " "), "else 3 if a job was skipped because a pipeline run was open") {
		t.Errorf("help: %s", r.stdout)
	}
}

func TestMaintenancePlanAndRun(t *testing.T) {
	dsn := pgtest.DB(t)
	db := pgtest.Connect(t, dsn)
	bloatedTable(t, db)
	cfg := "../../examples/local-postgres.yaml"
	r := runWithDSN(t, dsn, "maintenance", "plan", "--format", "json", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("plan: %+v", r)
	}
	var items []map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &items); err != nil {
		t.Fatalf("plan JSON: %v\n%s", err, r.stdout)
	}
	// Deleting half the rows is also a modification ANALYZE should follow.
	want := map[string][2]string{
		"analyze-after-pipeline":   {`ANALYZE "public"."bloated"`, "2500 rows modified since the last ANALYZE"},
		"weekly-vacuum":            {`VACUUM "public"."bloated"`, "dead rows 50 % ≥ 20 %"},
		"vacuum-full-unused-space": {`VACUUM FULL "public"."bloated"`, "unused_percent 50 ≥ 20 (when)"},
	}
	if len(items) != 3 {
		t.Fatalf("plan %s", r.stdout)
	}
	for _, it := range items {
		w := want[it["job"]]
		if w[0] != it["statement"] || it["table"] != "public.bloated" || !strings.Contains(it["reason"], w[1]) || it["action"] == "" {
			t.Errorf("item %v", it)
		}
	}
	if r := runWithDSN(t, dsn, "maintenance", "plan", "--job", "weekly-vacuum", "-c", cfg); r.code != 0 ||
		!strings.Contains(r.stdout, "weekly-vacuum") || strings.Contains(r.stdout, "vacuum-full") {
		t.Errorf("text plan of one job: %+v", r)
	}
	data := t.TempDir()
	if r := runWithDSN(t, dsn, "maintenance", "run", "--dry-run", "--data", data, "-c", cfg); r.code != 0 || !strings.Contains(r.stdout, "planned") {
		t.Errorf("dry run: %+v", r)
	}
	r = runWithDSN(t, dsn, "maintenance", "run", "--job", "weekly-vacuum", "--data", data, "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "succeeded") || !strings.Contains(r.stdout, `VACUUM "public"."bloated"`) {
		t.Fatalf("run: %+v", r)
	}
	r = runWithDSN(t, dsn, "maintenance", "runs", "--format", "json", "--data", data, "-c", cfg)
	var runs []struct {
		Job, Target, Outcome, Trigger string
		Before, After                 map[string]float64
	}
	if err := json.Unmarshal([]byte(r.stdout), &runs); err != nil || len(runs) != 1 {
		t.Fatalf("runs: %v %+v", err, r)
	}
	if runs[0].Outcome != "succeeded" || runs[0].Trigger != "manual" || runs[0].Before["dead_rows"] != 2500 || runs[0].After["dead_rows"] != 0 {
		t.Errorf("recorded %+v", runs[0])
	}
	if r := runWithDSN(t, dsn, "maintenance", "compression", "--format", "json", "--data", data, "-c", cfg); r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("compression report: %+v", r)
	}
	if r := runWithDSN(t, dsn, "maintenance", "plan", "--format", "yaml", "-c", cfg); r.code != 2 {
		t.Errorf("bad format: %+v", r)
	}
	if r := runWithDSN(t, dsn, "maintenance", "run", "--job", "no-such-job", "--data", data, "-c", cfg); r.code != 1 || !strings.Contains(r.stderr, `no maintenance job named "no-such-job"`) {
		t.Errorf("unknown job: %+v", r)
	}
}

func TestCapacityReport(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	var batch []store.Datapoint
	for at := time.Date(2026, 10, 1, 0, 0, 0, 0, tokyo); at.Before(time.Date(2026, 10, 3, 0, 0, 0, 0, tokyo)); at = at.Add(time.Minute) {
		v := 0.0
		if at.Hour() == 2 {
			v = 32
		}
		batch = append(batch, store.Datapoint{Metric: "ComputeCapacity", Dims: "Environment=local", Time: at, Value: v})
	}
	if err := st.InsertDatapoints(ctx, batch); err != nil {
		t.Fatal(err)
	}
	st.Close()
	cfg := "../../examples/local-postgres.yaml"
	r := runWithDSN(t, "postgres://x@127.0.0.1:1/x", "capacity", "report", "--month", "2026-10", "--format", "json", "--data", data, "-c", cfg)
	if r.code != 0 {
		t.Fatalf("report: %+v", r)
	}
	var rep struct {
		Month        string  `json:"month"`
		RPUHours     float64 `json:"rpu_hours"`
		AtMaxPercent float64 `json:"at_max_percent"`
		Advice       struct{ Verdict string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Month != "2026-10" || rep.RPUHours != 64 || rep.AtMaxPercent != 100 || rep.Advice.Verdict != "raise" {
		t.Fatalf("report %+v %v\n%s", rep, err, r.stdout)
	}
	r = runWithDSN(t, "postgres://x@127.0.0.1:1/x", "capacity", "report", "--month", "2026-10", "--data", data, "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "Capacity report 2026-10") || !strings.Contains(r.stdout, "Advice (raise)") {
		t.Errorf("text report: %+v", r)
	}
	if r := runWithDSN(t, "", "capacity", "report", "--month", "October", "--data", data, "-c", cfg); r.code != 2 {
		t.Errorf("bad month: %+v", r)
	}
	if r := runWithDSN(t, "", "capacity", "report", "--sys-usage", "--data", data, "-c", cfg); r.code != 2 {
		t.Errorf("--sys-usage on PostgreSQL: %+v", r)
	}
}
