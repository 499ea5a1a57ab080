package collect_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dpc-learning/dpcops/examples"
	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

// extraMetrics are appended to the local example's metrics for the tests.
const extraMetrics = `  - name: TableUnused
    source: table_unused_percent
    namespace: Custom/DPC
  - name: StoragePercent
    source: storage_percent
    namespace: Custom/DPC
  - name: FailureRate
    source: query_failure_rate
    namespace: Custom/DPC
  - name: Connections
    source: database_connections
    namespace: Custom/DPC
`

// localSpec is examples/local-postgres.yaml on dsn, with extra metrics.
func localSpec(t testing.TB, dsn, extra string) *spec.Spec {
	t.Helper()
	y := strings.Replace(string(examples.LocalPostgres), "\nalarms:\n", "\n"+extraMetrics+extra+"\nalarms:\n", 1)
	y = strings.Replace(y, "\nwarehouse:\n", "\nwarehouse:\n  statement_timeout: 2s\n", 1)
	s, diags := spec.Parse("local.yaml", []byte(y), spec.Options{LookupEnv: func(k string) (string, bool) {
		if k == "DPCOPS_WAREHOUSE_DSN" {
			return dsn, true
		}
		return "", false
	}})
	if diags.HasErrors() {
		t.Fatalf("spec: %v", diags.Errors())
	}
	return s
}

type env struct {
	t   *testing.T
	ctx context.Context
	db  *pgx.Conn
	st  *store.Store
	c   *collect.Collector
	s   *spec.Spec
	w   backend.Warehouse
}

func newEnv(t *testing.T, extra string) *env {
	t.Helper()
	dsn := pgtest.DB(t)
	ctx := context.Background()
	s := localSpec(t, dsn, extra)
	w := collect.OpenWarehouse(s)
	t.Cleanup(func() { w.Close() })
	if err := w.(collect.Initializer).Init(ctx); err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t)
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return &env{t: t, ctx: ctx, db: db, st: st, s: s, w: w, c: collect.New(collect.Options{Spec: s, Store: st, Warehouse: w})}
}

func (e *env) exec(sql string) {
	e.t.Helper()
	if _, err := e.db.Exec(e.ctx, sql); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

func (e *env) cycle() *collect.Result {
	e.t.Helper()
	r, err := e.c.Cycle(e.ctx, true)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// values returns the readings of a metric on its own series (no extra
// dimension beyond the metric's).
func values(r *collect.Result, metric string) []float64 {
	var out []float64
	for _, rd := range r.Readings {
		if rd.Metric == metric && !strings.Contains(rd.Dimensions.Canonical(), "Table=") {
			out = append(out, rd.Value)
		}
	}
	return out
}

func skipReason(r *collect.Result, metric string) string {
	for _, s := range r.Skipped {
		if s.Metric == metric {
			return s.Reason
		}
	}
	return ""
}

func TestLoadErrorsRaiseCopyErrorCount(t *testing.T) {
	e := newEnv(t, "")
	if v := values(e.cycle(), "CopyErrorCount"); len(v) != 1 || v[0] != 0 {
		t.Fatalf("no load errors: %v", v)
	}
	e.exec(`INSERT INTO ops.load_errors (file_name, line_number, column_name, error_code, error_message)
		VALUES ('s3://dpc/ef/a.csv', 7, 'points', 1207, 'Invalid digit'), ('s3://dpc/ef/a.csv', 9, 'points', 1207, 'Invalid digit')`)
	if v := values(e.cycle(), "CopyErrorCount"); len(v) != 1 || v[0] != 2 {
		t.Fatalf("after two bad rows: %v", v)
	}
	if v := values(e.cycle(), "CopyErrorCount"); len(v) != 1 || v[0] != 0 {
		t.Fatalf("the next window counts only new rows: %v", v)
	}
}

func TestFailedQueriesRaiseTheFailureCount(t *testing.T) {
	e := newEnv(t, "")
	r := e.cycle()
	if !strings.Contains(skipReason(r, "QueriesFailed"), "first reading") {
		t.Fatalf("the first cycle has no baseline: %v", r.Skipped)
	}
	var failed, rate float64
	deadline := time.Now().Add(15 * time.Second)
	for {
		for i := 0; i < 5; i++ {
			e.db.Exec(e.ctx, "SELECT 1 / 0")
		}
		e.exec("SELECT pg_stat_force_next_flush()")
		r = e.cycle()
		if v := values(r, "QueriesFailed"); len(v) == 1 {
			failed += v[0]
		}
		if v := values(r, "FailureRate"); len(v) == 1 {
			rate = v[0]
		}
		if failed >= 5 || time.Now().After(deadline) {
			break
		}
	}
	if failed < 5 {
		t.Fatalf("QueriesFailed rose by %v, want at least 5", failed)
	}
	if rate <= 0 {
		t.Errorf("failure rate %v", rate)
	}
	// dpcops' own statements do not count as the platform's failures: a
	// quiet cycle reports none.
	e.exec("SELECT pg_stat_force_next_flush()")
	time.Sleep(1100 * time.Millisecond) // let the last flush land before the baseline
	e.cycle()
	if v := values(e.cycle(), "QueriesFailed"); len(v) != 1 || v[0] != 0 {
		t.Errorf("a quiet cycle reports %v failures", v)
	}
}

func TestSucceededRunResetsELTDelay(t *testing.T) {
	e := newEnv(t, "")
	if reason := skipReason(e.cycle(), "ELTExecutionDelay"); !strings.Contains(reason, "no run of pipeline dpc-elt") {
		t.Fatalf("empty ledger: %q", reason)
	}
	e.exec(`INSERT INTO ops.pipeline_runs (pipeline, started_at, finished_at, status) VALUES ('dpc-elt', now() - interval '4 hours', NULL, 'failed')`)
	if v := values(e.cycle(), "ELTExecutionDelay"); len(v) != 1 || v[0] < 239 || v[0] > 241 {
		t.Fatalf("never succeeded: delay %v, want 240 minutes since the first start", v)
	}
	e.exec(`INSERT INTO ops.pipeline_runs (pipeline, started_at, finished_at, status) VALUES ('dpc-elt', now() - interval '3 hours', now() - interval '120 minutes', 'succeeded')`)
	if v := values(e.cycle(), "ELTExecutionDelay"); len(v) != 1 || v[0] < 119.9 || v[0] > 121 {
		t.Fatalf("delay %v, want 120", v)
	}
	e.exec(`INSERT INTO ops.pipeline_runs (pipeline, started_at, finished_at, status) VALUES ('dpc-elt', now() - interval '20 minutes', now() - interval '7 minutes', 'succeeded')`)
	if v := values(e.cycle(), "ELTExecutionDelay"); len(v) != 1 || v[0] < 6.9 || v[0] > 8 {
		t.Fatalf("after a success: delay %v, want 7", v)
	}
}

func TestDeletedRowsShowDeadSpace(t *testing.T) {
	e := newEnv(t, "")
	e.exec("CREATE TABLE ef_lines (id int, points int) WITH (autovacuum_enabled = false)")
	e.exec("INSERT INTO ef_lines SELECT g, g FROM generate_series(1, 2000) g")
	e.exec("DELETE FROM ef_lines WHERE id <= 1500")
	e.exec("SELECT pg_stat_force_next_flush()")
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := e.cycle()
		for _, rd := range r.Readings {
			if rd.Metric == "TableUnused" && rd.Dimensions.Canonical() == "Table=public.ef_lines" && rd.Value == 75 {
				if worst := values(r, "TableUnused"); len(worst) != 1 || worst[0] != 75 {
					t.Fatalf("the metric's own series carries the worst table: %v", worst)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 75%% dead space for ef_lines: %v", r.Readings)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestLongQueryShowsInRunningQueries(t *testing.T) {
	e := newEnv(t, "")
	ctx, cancel := context.WithCancel(e.ctx)
	var wg sync.WaitGroup
	wg.Go(func() { e.db.Exec(ctx, "SELECT pg_sleep(30) -- monthly LOS by DPC code") })
	defer func() { cancel(); wg.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		running, err := e.c.Running(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range running {
			if strings.Contains(q.Text, "monthly LOS") && q.Elapsed > 100*time.Millisecond {
				if v := values(e.cycle(), "ComputeCapacity"); len(v) != 1 || v[0] < 1 {
					t.Errorf("compute in use %v while a query runs", v)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the long query is not in %+v", running)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBadCustomRowsAndSlowQueriesAreSkipped(t *testing.T) {
	e := newEnv(t, `  - name: Kinds
    source: sql
    sql: SELECT 'a' AS kind, 1.5 AS value UNION ALL SELECT 'b', NULL
  - name: Slow
    source: sql
    sql: SELECT pg_sleep(30) AS sleep, 1 AS value
`)
	r := e.cycle()
	var kinds []collect.Reading
	for _, rd := range r.Readings {
		if rd.Metric == "Kinds" {
			kinds = append(kinds, rd)
		}
	}
	if len(kinds) != 1 || kinds[0].Value != 1.5 || kinds[0].Dimensions.Canonical() != "kind=a" {
		t.Errorf("kinds %+v", kinds)
	}
	if reason := skipReason(r, "Slow"); !strings.Contains(reason, "statement timeout") {
		t.Errorf("slow query: %q", reason)
	}
	h, _ := e.st.HealthAll(e.ctx)
	if len(h) == 0 || !strings.Contains(h[0].LastError, "custom:Kinds: metric Kinds: skipped 1 row(s)") {
		t.Errorf("health %+v", h)
	}
}

func TestStoredCycleHasDatapointsHealthAndState(t *testing.T) {
	e := newEnv(t, "")
	r := e.cycle()
	if len(r.Readings) == 0 || r.Statements == 0 {
		t.Fatalf("cycle %+v", r)
	}
	n, _ := e.st.CountDatapoints(e.ctx)
	if n != int64(len(r.Readings)+len(r.Self)) || len(r.Self) != 1 {
		t.Errorf("%d datapoints stored, %d readings and %d of dpcops' own", n, len(r.Readings), len(r.Self))
	}
	h, err := e.st.HealthAll(e.ctx)
	if err != nil || len(h) != 1 || h[0].Collector != "warehouse" || h[0].LastSuccess.IsZero() || h[0].Statements != int64(r.Statements) ||
		h[0].Datapoints != int64(len(r.Readings)) {
		t.Errorf("health %+v %v", h, err)
	}
	if v := values(r, "StoragePercent"); len(v) != 1 || v[0] <= 0 || v[0] > 1 {
		t.Errorf("storage percent of a 1 TB quota: %v", v)
	}
	if v := values(r, "DataStorage"); len(v) != 1 || v[0] < 1 {
		t.Errorf("storage MB %v", v)
	}
	if v := values(r, "Connections"); len(v) != 1 || v[0] < 1 {
		t.Errorf("connections %v", v)
	}
	// A new collector on the same store picks up the counter baselines.
	c2 := collect.New(collect.Options{Spec: e.s, Store: e.st, Warehouse: e.w})
	r2, err := c2.Cycle(e.ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(values(r2, "QueriesSucceeded")) != 1 {
		t.Errorf("after a restart the counters report at once: %v", r2.Skipped)
	}
}

func TestWarehouseDownAndBack(t *testing.T) {
	ctx := context.Background()
	cl := pgtest.OwnCluster(t)
	s := localSpec(t, cl.DSN, "")
	w := collect.OpenWarehouse(s)
	defer w.Close()
	if err := w.(collect.Initializer).Init(ctx); err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t)
	var logs bytes.Buffer
	// A clock that moves on each time it is read: cycles that follow one
	// another within a millisecond would otherwise store their readings
	// at one time, the later replacing the earlier.
	var mu sync.Mutex
	clock := time.Now().UTC().Truncate(time.Second)
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
	c := collect.New(collect.Options{Spec: s, Store: st, Warehouse: w, Now: now, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	first, err := c.Cycle(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	failed := func(r *collect.Result) float64 {
		t.Helper()
		if len(r.Self) != 1 || r.Self[0].Metric != "CollectorFailedCycles" {
			t.Fatalf("self readings %+v", r.Self)
		}
		return r.Self[0].Value
	}
	if n := failed(first); n != 0 {
		t.Errorf("failed cycles while up: %v", n)
	}
	if err := cl.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	down, err := c.Cycle(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(down.Readings) != 0 {
		t.Errorf("while down: %d readings; missing data must be missing, not zero", len(down.Readings))
	}
	// dpcops counts its own failed cycles, and says so once.
	for i := 1; i <= 3; i++ {
		if i > 1 {
			if down, err = c.Cycle(ctx, true); err != nil {
				t.Fatal(err)
			}
		}
		if n := failed(down); n != float64(i) {
			t.Errorf("cycle %d while down: %v failed cycles", i, n)
		}
	}
	if got := strings.Count(logs.String(), "level=WARN msg=\"collector failing"); got != 1 {
		t.Errorf("%d WARN lines for one outage:\n%s", got, logs.String())
	}
	if reason := skipReason(down, "CopyErrorCount"); !strings.Contains(reason, "warehouse unreachable") {
		t.Errorf("skip reason %q", reason)
	}
	h, _ := st.HealthAll(ctx)
	if len(h) != 1 || !strings.Contains(h[0].LastError, "warehouse unreachable") || h[0].LastSuccess.IsZero() {
		t.Errorf("health while down %+v", h)
	}
	if err := cl.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	up, err := c.Cycle(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(values(up, "CopyErrorCount")) != 1 {
		t.Errorf("after the warehouse is back: %v", up.Skipped)
	}
	if n := failed(up); n != 0 || !strings.Contains(logs.String(), "collector recovered") {
		t.Errorf("after the warehouse is back: %v failed cycles; log:\n%s", n, logs.String())
	}
	pts, err := st.Points(ctx, "CollectorFailedCycles", "Environment=local", first.Time, up.Time.Add(time.Second))
	if err != nil || len(pts) != 5 {
		t.Errorf("stored self readings: %v %v", pts, err)
	}
}

func TestELTDelayBothWays(t *testing.T) {
	dsn := pgtest.DB(t)
	s := localSpec(t, dsn, "")
	s.ELTDelay = spec.ELTDelay{Method: spec.DelayBoth, MartQuery: "SELECT max(updated_at) FROM mart_los"}
	w := collect.OpenWarehouse(s)
	defer w.Close()
	ctx := context.Background()
	if err := w.(collect.Initializer).Init(ctx); err != nil {
		t.Fatal(err)
	}
	db := pgtest.Connect(t, dsn)
	for _, q := range []string{
		"CREATE TABLE mart_los (updated_at timestamptz)",
		"INSERT INTO mart_los VALUES (now() - interval '50 minutes')",
		"INSERT INTO ops.pipeline_runs (pipeline, started_at, finished_at, status) VALUES ('dpc-elt', now() - interval '1 hour', now() - interval '20 minutes', 'succeeded')",
	} {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	r, err := collect.New(collect.Options{Spec: s, Warehouse: w}).Cycle(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, rd := range r.Readings {
		if rd.Metric == "ELTExecutionDelay" {
			got[rd.Dimensions.Canonical()] = rd.Value
		}
	}
	near := func(v, want float64) bool { return v > want-0.5 && v < want+0.5 }
	if !near(got["Environment=local;Method=pipeline_completion"], 20) || !near(got["Environment=local;Method=mart_updated"], 50) || !near(got["Environment=local"], 50) {
		t.Errorf("delays %v: want 20 (pipeline), 50 (marts) and the larger on the metric's own series", got)
	}
}

func TestServerErrorLinesAreKept(t *testing.T) {
	c := pgtest.Cluster(t)
	if c.External() {
		t.Skip("the jsonlog path is known only for a server the harness starts; CI starts its own")
	}
	e := newEnv(t, "")
	e.s.Warehouse.LogFile = c.LogFile()
	col := collect.New(collect.Options{Spec: e.s, Store: e.st, Warehouse: e.w})
	e.db.Exec(e.ctx, "SELECT * FROM mart.no_such_mart_for_the_log")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := col.Cycle(e.ctx, true); err != nil {
			t.Fatal(err)
		}
		lines, err := e.st.LatestLogs(e.ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			if strings.Contains(l.Message, "no_such_mart_for_the_log") {
				if l.Severity != "ERROR" || !strings.Contains(l.Detail, "sqlstate=42P01") {
					t.Errorf("line %+v", l)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ERROR line never reached the store: %+v", lines)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
