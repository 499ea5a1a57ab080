package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/backend/postgres"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

type fixture struct {
	t   *testing.T
	ctx context.Context
	w   *postgres.Warehouse
	c   *pgwire.Client
	db  *pgx.Conn
}

func setup(t *testing.T) *fixture {
	t.Helper()
	dsn := pgtest.DB(t)
	ctx := context.Background()
	c := pgwire.New(dsn, 5*time.Second, "dpcops")
	w := postgres.New(c, 5*time.Second)
	t.Cleanup(func() { w.Close() })
	for i := 0; i < 2; i++ { // init is idempotent
		if err := w.Init(ctx); err != nil {
			t.Fatalf("init #%d: %v", i+1, err)
		}
	}
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return &fixture{t, ctx, w, c, db}
}

func (f *fixture) exec(sql string, args ...any) {
	f.t.Helper()
	if _, err := f.db.Exec(f.ctx, sql, args...); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

func (f *fixture) snapshot(want backend.Want) *backend.Snapshot {
	f.t.Helper()
	s, err := f.w.Snapshot(f.ctx, want)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// eventually polls until cond holds: the statistics collector publishes
// counters asynchronously.
func (f *fixture) eventually(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLoadErrorsCountNewRowsOnly(t *testing.T) {
	f := setup(t)
	start := time.Now().Add(-time.Minute)
	f.exec(`INSERT INTO ops.load_errors (file_name, line_number, column_name, error_code, error_message)
		SELECT 's3://dpc/ef/2026-11.csv', g, 'points', 1207, 'Invalid digit, Value ''O'''
		FROM generate_series(1, 3) g`)
	s := f.snapshot(backend.Want{LoadErrors: true, LoadErrorsSince: start})
	if s.LoadErrors == nil || s.LoadErrors.Count != 3 {
		t.Fatalf("load errors %+v, errors %v", s.LoadErrors, s.Errors)
	}
	s2 := f.snapshot(backend.Want{LoadErrors: true, LoadErrorsSince: s.LoadErrors.Until})
	if s2.LoadErrors.Count != 0 {
		t.Errorf("the next window counted %d old rows", s2.LoadErrors.Count)
	}
}

func TestPipelineLedger(t *testing.T) {
	f := setup(t)
	want := backend.Want{Pipeline: true, PipelineName: "dpc-elt"}
	s := f.snapshot(want)
	if s.Pipeline == nil || s.Pipeline.LastSuccess != nil || s.Pipeline.FirstStart != nil || s.Pipeline.Running {
		t.Fatalf("empty ledger: %+v %v", s.Pipeline, s.Errors)
	}
	f.exec(`INSERT INTO ops.pipeline_runs (pipeline, started_at, finished_at, status) VALUES
		('dpc-elt', now() - interval '3 hours', now() - interval '150 minutes', 'succeeded'),
		('dpc-elt', now() - interval '2 hours', now() - interval '100 minutes', 'failed'),
		('other',   now() - interval '1 hour',  now() - interval '10 minutes', 'succeeded'),
		('dpc-elt', now() - interval '5 minutes', NULL, 'running')`)
	s = f.snapshot(want)
	p := s.Pipeline
	if p.LastSuccess == nil || !p.Running || p.FirstStart == nil {
		t.Fatalf("ledger: %+v", p)
	}
	if d := time.Since(*p.LastSuccess); d < 149*time.Minute || d > 152*time.Minute {
		t.Errorf("last success %v ago, want 150 minutes (another pipeline's success must not count)", d)
	}
}

func TestFailedTransactionsRaiseRollbacks(t *testing.T) {
	f := setup(t)
	before := f.snapshot(backend.Want{Database: true}).Database
	for i := 0; i < 3; i++ {
		f.db.Exec(f.ctx, "SELECT 1 / 0")
	}
	f.exec("SELECT pg_stat_force_next_flush()")
	f.eventually("3 more rollbacks", func() bool {
		d := f.snapshot(backend.Want{Database: true}).Database
		return d.Rollbacks >= before.Rollbacks+3
	})
	d := f.snapshot(backend.Want{Database: true}).Database
	if d.SizeBytes < 1<<20 || d.Connections < 1 {
		t.Errorf("database %+v", d)
	}
}

func TestDeletedRowsShowAsDeadSpace(t *testing.T) {
	f := setup(t)
	f.exec("CREATE TABLE public.ef_lines (id int, points int) WITH (autovacuum_enabled = false)")
	f.exec("CREATE TABLE public.clean (id int) WITH (autovacuum_enabled = false)")
	f.exec("INSERT INTO public.ef_lines SELECT g, g % 100 FROM generate_series(1, 1000) g")
	f.exec("INSERT INTO public.clean SELECT g FROM generate_series(1, 100) g")
	f.exec("DELETE FROM public.ef_lines WHERE id <= 600")
	f.exec("SELECT pg_stat_force_next_flush()")
	var ef, clean backend.Table
	f.eventually("dead tuples in ef_lines", func() bool {
		for _, tb := range f.snapshot(backend.Want{Tables: true}).Tables {
			switch tb.Name {
			case "ef_lines":
				ef = tb
			case "clean":
				clean = tb
			}
		}
		return ef.DeadRows == 600 && clean.Rows == 100
	})
	if ef.Rows != 400 || ef.UnusedPercent != 60 || clean.UnusedPercent != 0 {
		t.Errorf("ef_lines %+v clean %+v", ef, clean)
	}
	if ef.StatsOff <= 0 || ef.LastAnalyze != nil {
		t.Errorf("never analyzed, modified: stats_off %v, last analyze %v", ef.StatsOff, ef.LastAnalyze)
	}
	f.exec("ANALYZE public.ef_lines")
	f.exec("SELECT pg_stat_force_next_flush()")
	f.eventually("analyze recorded", func() bool {
		for _, tb := range f.snapshot(backend.Want{Tables: true}).Tables {
			if tb.Name == "ef_lines" {
				return tb.LastAnalyze != nil && tb.StatsOff == 0
			}
		}
		return false
	})
}

func TestLongQueryShowsAsRunning(t *testing.T) {
	f := setup(t)
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.db.Exec(ctx, "SELECT pg_sleep(30) /* long analyst query */")
	}()
	var q backend.RunningQuery
	f.eventually("the sleeping query", func() bool {
		a := f.snapshot(backend.Want{Activity: true}).Activity
		for _, r := range a.Running {
			if strings.Contains(r.Text, "long analyst query") {
				q = r
				return r.Elapsed > 200*time.Millisecond
			}
		}
		return false
	})
	if q.PID == 0 || q.User != "postgres" || q.Started.IsZero() {
		t.Errorf("running query %+v", q)
	}
	cancel()
	<-done
}

func TestOneSnapshotIsOneRoundTrip(t *testing.T) {
	f := setup(t)
	f.exec("CREATE TABLE mart_los (updated_at timestamptz)")
	f.exec("INSERT INTO mart_los VALUES (now() - interval '42 minutes')")
	before := f.c.RoundTrips()
	s := f.snapshot(backend.Want{
		Database: true, Activity: true, Tables: true,
		LoadErrors: true, LoadErrorsSince: time.Now().Add(-time.Hour),
		Pipeline: true, PipelineName: "dpc-elt",
		MartQuery: "SELECT max(updated_at) FROM mart_los",
		Custom: map[string]string{
			"Kinds": "SELECT 'a' AS kind, 5 AS value UNION ALL SELECT 'b', NULL",
		},
	})
	if len(s.Errors) != 1 || s.Errors["custom:Kinds"] == nil || !strings.Contains(s.Errors["custom:Kinds"].Error(), "skipped 1 row") {
		t.Errorf("errors %v", s.Errors)
	}
	if s.Database == nil || s.Activity == nil || s.LoadErrors == nil || s.Pipeline == nil || s.MartUpdated == nil {
		t.Fatalf("snapshot %+v", s)
	}
	if d := time.Since(*s.MartUpdated); d < 41*time.Minute || d > 43*time.Minute {
		t.Errorf("mart updated %v ago", d)
	}
	if rows := s.Custom["Kinds"]; len(rows) != 1 || rows[0].Value != 5 || rows[0].Dimensions["kind"] != "a" {
		t.Errorf("custom rows %+v", rows)
	}
	// Seven queries and the one SET of the statement timeout.
	if s.Statements != 8 {
		t.Errorf("statements %d, want 8", s.Statements)
	}
	if n := f.c.RoundTrips() - before; n != 1 {
		t.Errorf("%d round trips, want one batch", n)
	}
}

func TestMissingOpsSchemaIsAPartError(t *testing.T) {
	dsn := pgtest.DB(t)
	w := postgres.New(pgwire.New(dsn, 5*time.Second, "dpcops"), 5*time.Second)
	defer w.Close()
	s, err := w.Snapshot(context.Background(), backend.Want{Database: true, LoadErrors: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.Database == nil || s.LoadErrors != nil || !strings.Contains(s.Errors["load_errors"].Error(), "ops.load_errors") {
		t.Errorf("snapshot %+v errors %v", s, s.Errors)
	}
}

func TestTriageParts(t *testing.T) {
	f := setup(t)
	f.exec(`INSERT INTO ops.pipeline_runs (pipeline, started_at, finished_at, status, failed_step, error) VALUES
		('dpc-elt', now() - interval '30 minutes', now() - interval '29 minutes', 'failed', 'copy_raw_ef', 'COPY rejected 2 rows'),
		('dpc-elt', now() - interval '5 hours', now() - interval '5 hours', 'succeeded', NULL, NULL)`)
	f.exec(`INSERT INTO ops.load_errors (file_name, line_number, column_name, error_code, error_message) VALUES
		('s3://dpc/ef/b.csv', 12, 'points', 1207, 'Invalid digit, Value ''O''')`)
	s := f.snapshot(backend.Want{PipelineRuns: true, PipelineName: "dpc-elt", LoadErrorRows: true, RecentSince: time.Now().Add(-2 * time.Hour)})
	if len(s.Errors) != 0 {
		t.Fatal(s.Errors)
	}
	if len(s.Runs) != 1 || s.Runs[0].FailedStep != "copy_raw_ef" || s.Runs[0].Finished == nil {
		t.Errorf("runs %+v", s.Runs)
	}
	if len(s.ErrorRows) != 1 || s.ErrorRows[0].Line != 12 || s.ErrorRows[0].Message != "Invalid digit, Value 'O'" {
		t.Errorf("rows %+v", s.ErrorRows)
	}
}
