// The tests here are a contract test of dpcops' Redshift SQL, not of
// Redshift: they run the queries against a real PostgreSQL in which
// testdata/fixture.sql recreates the documented columns of the SYS views
// and SVV_TABLE_INFO with sample rows. They prove the queries are
// well-formed over those columns and that their answers are read right.
package redshift_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/backend/redshift"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

func setup(t *testing.T) *redshift.Warehouse {
	t.Helper()
	dsn := pgtest.DB(t)
	ctx := context.Background()
	fixture, err := os.ReadFile("testdata/fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	conn := pgtest.Connect(t, dsn)
	if _, err := conn.Exec(ctx, string(fixture)); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	w := redshift.New(pgwire.New(dsn, 5*time.Second, "dpcops"), 5*time.Second)
	t.Cleanup(func() { w.Close() })
	return w
}

func TestSnapshotOverTheSysViews(t *testing.T) {
	w := setup(t)
	now := time.Now()
	s, err := w.Snapshot(context.Background(), backend.Want{
		Queries: true, QueriesSince: now.Add(-time.Hour),
		Activity:   true,
		Tables:     true,
		LoadErrors: true, LoadErrorsSince: now.Add(-time.Hour),
		Usage: true, UsageSince: now.Add(-time.Hour),
		RPUMinutes: true, RPUSince: now.Add(-time.Hour),
		Pipeline: true, PipelineName: "dpc-elt",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Errors) != 0 {
		t.Fatalf("errors: %v", s.Errors)
	}
	if q := s.Queries; q.Succeeded != 2 || q.Failed != 1 {
		t.Errorf("queries in the last hour: %+v (want 2 succeeded, 1 failed; the 3-hour-old one outside)", q)
	}
	if s.LoadErrors.Count != 2 {
		t.Errorf("load errors in the last hour: %d, want 2", s.LoadErrors.Count)
	}
	if len(s.Activity.Running) != 2 {
		t.Fatalf("running: %+v", s.Activity.Running)
	}
	long := s.Activity.Running[0]
	if long.ID != 105 || long.Label != "analyst" || long.Elapsed < 699*time.Second || long.Elapsed > 710*time.Second || long.QueueTime != 2*time.Second {
		t.Errorf("long query %+v", long)
	}
	tables := map[string]backend.Table{}
	for _, tb := range s.Tables {
		tables[tb.Schema+"."+tb.Name] = tb
	}
	ef := tables["raw.ef_lines"]
	if ef.UnusedPercent != 30 || ef.SkewPercent != 35 || ef.UnsortedPercent != 12.5 || ef.StatsOff != 3 || ef.SizeMB != 2048 {
		t.Errorf("raw.ef_lines %+v", ef)
	}
	if los := tables["mart.los"]; los.UnusedPercent != 0 || los.SkewPercent != 0 {
		t.Errorf("mart.los %+v", los)
	}
	if empty := tables["raw.form1"]; empty.Rows != 0 || empty.SkewPercent != 0 {
		t.Errorf("a table with NULL figures: %+v", empty)
	}
	if s.Usage.ComputeSeconds != 480 || s.Usage.ChargedSeconds != 480 {
		t.Errorf("usage %+v", s.Usage)
	}
	// The last hour's minutes, oldest first, each at its start: 8 RPU,
	// then idle (the 9-day-old row is outside).
	if m := s.RPUMinutes; len(m) != 2 || m[0].RPU != 8 || m[1].RPU != 0 || !m[0].At.Before(m[1].At) || m[1].At.Sub(m[0].At) != time.Minute {
		t.Errorf("RPU minutes %+v", m)
	}
	if p := s.Pipeline; p.LastSuccess == nil || p.Running {
		t.Errorf("pipeline %+v", p)
	} else if d := time.Since(*p.LastSuccess); d < 94*time.Minute || d > 96*time.Minute {
		t.Errorf("last success %v ago, want 95 minutes", d)
	}
}

func TestNoProvisionedOnlyViews(t *testing.T) {
	entries, err := os.ReadDir("sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		sql := strings.ToLower(withoutComments(redshift.SQL(strings.TrimSuffix(e.Name(), ".sql"))))
		for _, prefix := range []string{"stl_", "stv_", "svl_", "svcs_"} {
			if strings.Contains(sql, prefix) {
				t.Errorf("%s queries a %s view, which Redshift Serverless refuses", e.Name(), prefix)
			}
		}
	}
}

func TestMissingPrivilegeIsReportedPerPart(t *testing.T) {
	dsn := pgtest.DB(t)
	ctx := context.Background()
	conn := pgtest.Connect(t, dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	// Roles are cluster-wide and outlive the test's database: the role is
	// named after the database, so that -count=N runs do not collide.
	role := "monitor_lite_" + cfg.Database
	fixture, _ := os.ReadFile("testdata/fixture.sql")
	for _, sql := range []string{string(fixture),
		"CREATE ROLE " + role + " LOGIN",
		"GRANT SELECT ON sys_query_history TO " + role,
		"GRANT EXECUTE ON FUNCTION getdate() TO " + role,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	lite := strings.Replace(dsn, "postgres@", role+"@", 1)
	w := redshift.New(pgwire.New(lite, 5*time.Second, "dpcops"), 5*time.Second)
	defer w.Close()
	s, err := w.Snapshot(ctx, backend.Want{Queries: true, Tables: true})
	if err != nil {
		t.Fatal(err)
	}
	if s.Queries == nil || s.Errors["tables"] == nil || !strings.Contains(s.Errors["tables"].Error(), "permission denied") {
		t.Errorf("queries %+v, errors %v", s.Queries, s.Errors)
	}
}

// withoutComments drops -- comments, which may name the views a query
// replaces.
func withoutComments(sql string) string {
	var b strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

func TestTriagePartsOverTheSysViews(t *testing.T) {
	w := setup(t)
	s, err := w.Snapshot(context.Background(), backend.Want{
		PipelineRuns: true, PipelineName: "dpc-elt", LoadErrorRows: true, FailedQueries: true,
		RecentSince: time.Now().Add(-time.Hour),
	})
	if err != nil || len(s.Errors) != 0 {
		t.Fatalf("%v %v", err, s.Errors)
	}
	if len(s.ErrorRows) != 2 || s.ErrorRows[0].File != "s3://dpc/ef/2026-11-a.csv" || s.ErrorRows[0].Code != 1207 || s.ErrorRows[0].Column != "points" {
		t.Errorf("load error rows %+v", s.ErrorRows)
	}
	if len(s.Failed) != 1 || s.Failed[0].ID != 103 || s.Failed[0].Text != "select x from nowhere" {
		t.Errorf("failed queries %+v", s.Failed)
	}
	// The only run started four hours ago: outside the hour.
	if len(s.Runs) != 0 {
		t.Errorf("runs %+v", s.Runs)
	}
}

func TestColumnsFromSVVColumns(t *testing.T) {
	w := setup(t)
	s, err := w.Snapshot(context.Background(), backend.Want{Columns: true})
	if err != nil || s.Errors["columns"] != nil {
		t.Fatalf("%v %v", err, s.Errors)
	}
	if len(s.Columns) != 3 || s.Columns[1].Name != "updated_at" || s.Columns[1].Type != "timestamp without time zone" {
		t.Errorf("columns %+v", s.Columns)
	}
}
