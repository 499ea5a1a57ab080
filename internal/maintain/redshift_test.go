package maintain

// A contract test of the maintenance SQL for Redshift, not of Redshift: the
// queries run against a real PostgreSQL in which the backend's fixture and
// testdata/redshift_fixture.sql recreate the documented columns of the
// views they read. Statements only Redshift runs (VACUUM SORT ONLY,
// ANALYZE COMPRESSION, SET query_group) are not sent here.

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

func redshiftRig(t *testing.T, maintenance string) (*Runner, *pgx.Conn, *store.Store) {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.DB(t)
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	for _, f := range []string{"../backend/redshift/testdata/fixture.sql", "testdata/redshift_fixture.sql"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, string(b)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	y := `platform: dpc-test
aws: {region: ap-northeast-1}
warehouse:
  engine: redshift-serverless
  workgroup: dpc
  namespace: dpc
  dsn: ${DSN}
pipeline: {kind: ledger, name: dpc-elt}
maintenance:
` + maintenance
	s, diags := spec.Parse("rs.yaml", []byte(y), spec.Options{LookupEnv: func(k string) (string, bool) { return dsn, k == "DSN" }})
	if diags.HasErrors() {
		t.Fatalf("spec: %v", diags.Errors())
	}
	st := storetest.Open(t)
	clock := newFakeClock(t0)
	r, err := NewRunner(Options{Spec: s, Store: st, Now: clock.Now, Sleep: clock.Sleep, Poll: time.Minute, VacuumWait: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, db, st
}

const redshiftJobs = `  - name: weekly-vacuum
    action: vacuum
    schedule: "0 4 * * SUN"
  - name: analyze-after-pipeline
    action: analyze
    after: pipeline_success
  - name: monthly-analyze-compression
    action: analyze_compression
    schedule: "0 5 1 * *"
    tables: [raw.unsorted_only]
`

func TestRedshiftPlanFromTheServerlessViews(t *testing.T) {
	r, _, _ := redshiftRig(t, redshiftJobs)
	items, err := r.Plan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.Job+": "+statements([]Item{it})[0]+" — "+it.Reason)
	}
	want := []string{
		`weekly-vacuum: VACUUM FULL "raw"."ef_lines" — unused 30 % ≥ 20 %; unsorted 12.5 % > 5 %`,
		`weekly-vacuum: deep_copy raw.giant — deep copy recommended instead of VACUUM: 819200 MB and 80 % unsorted (≥ 716800 MB and ≥ 50 %); unsorted 80 % > 5 %`,
		`weekly-vacuum: VACUUM SORT ONLY "raw"."unsorted_only" — unsorted 12 % > 5 %`,
		`analyze-after-pipeline: ANALYZE "mart"."stale" — stats_off 40 > 10`,
		`analyze-after-pipeline: ANALYZE "raw"."ef_daily" — 150000000 rows loaded since the last ANALYZE ≥ 100000000`,
		`monthly-analyze-compression: ANALYZE COMPRESSION "raw"."unsorted_only" — monthly encoding review`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plan\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRedshiftFigures(t *testing.T) {
	r, _, _ := redshiftRig(t, redshiftJobs)
	f, ok, err := r.wh.figures(context.Background(), "raw", "ef_lines")
	if err != nil || !ok {
		t.Fatalf("%v %v", ok, err)
	}
	if f["tbl_rows"] != 1e6 || f["visible_rows"] != 7e5 || f["unused_percent"] != 30 || f["unsorted_percent"] != 12.5 || f["size_mb"] != 2048 {
		t.Errorf("figures %v", f)
	}
	if _, ok, err := r.wh.figures(context.Background(), "raw", "gone"); ok || err != nil {
		t.Errorf("a missing table: ok %v err %v", ok, err)
	}
}

func TestRedshiftDetectsARunningVacuum(t *testing.T) {
	for _, tc := range []struct {
		name, sql string
		want      bool
	}{
		{"none", ``, false},
		{"an automatic vacuum does not count", `INSERT INTO sys_vacuum_history (table_name, is_automatic, status, start_time) VALUES ('x', true, 'Sort', getdate())`, false},
		{"a finished one does not count", `INSERT INTO sys_vacuum_history (table_name, is_automatic, status, start_time, end_time) VALUES ('x', false, 'Complete', getdate() - interval '1 hour', getdate())`, false},
		{"a manual one in SYS_VACUUM_HISTORY", `INSERT INTO sys_vacuum_history (table_name, is_automatic, status, start_time) VALUES ('x', false, 'Merge', getdate() - interval '5 minutes')`, true},
		{"a VACUUM statement in SYS_QUERY_HISTORY", `INSERT INTO sys_query_history (query_id, session_id, status, start_time, query_text) VALUES (900, 9100, 'running', getdate(), '  vacuum sort only raw.x')`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, db, st := redshiftRig(t, redshiftJobs)
			ctx := context.Background()
			if tc.sql != "" {
				if _, err := db.Exec(ctx, tc.sql); err != nil {
					t.Fatal(err)
				}
			}
			busy, err := r.wh.vacuumRunning(ctx)
			if err != nil || busy != tc.want {
				t.Fatalf("running %v (%v), want %v", busy, err, tc.want)
			}
			if !tc.want {
				return
			}
			// The job waits, then records every VACUUM as skipped.
			runs, err := r.Run(ctx, "weekly-vacuum", false)
			if err != nil {
				t.Fatal(err)
			}
			for _, run := range runs {
				if run.Action != ActionDeepCopy && (run.Outcome != OutcomeSkipped || !strings.Contains(run.Error, "another VACUUM is running (waited 5m0s)")) {
					t.Errorf("%s: %s %s", run.Target, run.Outcome, run.Error)
				}
			}
			if rec, _ := ReadRuns(ctx, st, 10); len(rec) != 3 {
				t.Errorf("recorded %d runs, want 3 (two VACUUMs skipped, one deep copy advice)", len(rec))
			}
		})
	}
}

func TestRedshiftLoadsNeedPrivileges(t *testing.T) {
	r, db, _ := redshiftRig(t, redshiftJobs)
	if _, err := db.Exec(context.Background(), `DROP TABLE sys_analyze_history`); err != nil {
		t.Fatal(err)
	}
	tables, note, err := r.wh.tables(context.Background())
	if err != nil || !strings.Contains(note, "stats_off decides") {
		t.Fatalf("note %q err %v", note, err)
	}
	for _, tb := range tables {
		if tb.RowsLoaded != -1 {
			t.Errorf("%s: rows loaded %d, want unknown", tb.Qualified(), tb.RowsLoaded)
		}
	}
}

func TestParseCompressionReport(t *testing.T) {
	res := pgwire.Result{Columns: []string{"Table", "Column", "Encoding", "Est_reduction_pct"}, Rows: [][]pgwire.Value{
		{{Text: "ef_lines"}, {Text: "points"}, {Text: "az64"}, {Text: "62.50"}},
		{{Text: "ef_lines"}, {Text: "code  "}, {Text: "zstd"}, {Text: "81.03"}},
	}}
	rows, err := parseCompression(res)
	if err != nil || len(rows) != 2 || rows[1].Column != "code" || rows[1].Encoding != "zstd" || rows[1].EstReductionPct != 81.03 {
		t.Fatalf("%+v %v", rows, err)
	}
	if _, err := parseCompression(pgwire.Result{Columns: []string{"Table", "Column"}}); err == nil {
		t.Error("a report without Encoding must be refused")
	}
	bad := pgwire.Result{Columns: res.Columns, Rows: [][]pgwire.Value{{{Text: "t"}, {Text: "c"}, {Text: "raw"}, {Null: true}}}}
	if _, err := parseCompression(bad); err == nil {
		t.Error("a NULL reduction must be refused")
	}
}

func TestCompressionReportIsStoredAndRead(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	for i, pct := range []float64{10, 62.5} {
		at := t0.Add(time.Duration(i) * time.Hour)
		id, err := insertRun(ctx, st, Run{Job: "c", Action: spec.ActionAnalyzeCompression, Target: "raw.ef_lines", StartedAt: at, Outcome: OutcomeRunning})
		if err != nil {
			t.Fatal(err)
		}
		end := at.Add(time.Minute)
		report := []CompressionRow{{Table: "ef_lines", Column: "points", Encoding: "az64", EstReductionPct: pct}}
		if err := finishRun(ctx, st, Run{ID: id, FinishedAt: &end, Outcome: OutcomeSucceeded}, report); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := ReadCompression(ctx, st)
	if err != nil || len(rows) != 1 || rows[0].EstReductionPct != 62.5 || !rows[0].At.Equal(t0.Add(time.Hour+time.Minute)) {
		t.Fatalf("latest report %+v %v", rows, err)
	}
}
