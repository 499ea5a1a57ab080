package maintain

import (
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/spec"
)

func pgTable(name string, live, dead, modified int64, analyzed bool) TableStats {
	t := TableStats{Table: backend.Table{Schema: "public", Name: name, Rows: live, DeadRows: dead,
		ModifiedSinceAnalyze: modified, UnsortedPercent: -1, SkewPercent: -1}, RowsLoaded: modified}
	if live+dead > 0 {
		t.UnusedPercent = 100 * float64(dead) / float64(live+dead)
	}
	if analyzed {
		at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		t.LastAnalyze = &at
	}
	return t
}

func rsTable(name string, rows, visible int64, unsorted, statsOff, sizeMB float64, loaded int64) TableStats {
	t := TableStats{Table: backend.Table{Schema: "raw", Name: name, Rows: rows, DeadRows: rows - visible,
		UnsortedPercent: unsorted, StatsOff: statsOff, SizeMB: sizeMB, ModifiedSinceAnalyze: -1}, RowsLoaded: loaded}
	if rows > 0 {
		t.UnusedPercent = 100 * float64(rows-visible) / float64(rows)
	}
	return t
}

func job(action string, mods ...func(*spec.Job)) *spec.Job {
	j := &spec.Job{Name: "j", Action: action}
	for _, m := range mods {
		m(j)
	}
	return j
}

func statements(items []Item) []string {
	var out []string
	for _, it := range items {
		s := it.Statement
		if s == "" {
			s = it.Action + " " + it.Table
		}
		out = append(out, s)
	}
	return out
}

func TestPlanPostgres(t *testing.T) {
	tables := []TableStats{
		pgTable("bloated", 1000, 500, 0, true), // 33 % dead
		pgTable("clean", 1000, 10, 0, true),    // 1 % dead
		pgTable("loaded", 1000, 0, 5000, true), // 500 % modified
		pgTable("touched", 1000, 0, 50, true),  // 5 % modified
		pgTable("fresh", 200, 0, 200, false),   // never analyzed
		pgTable("empty", 0, 0, 0, false),       // nothing to analyze
		pgTable("huge", 5e9, 0, 2e8, true),     // 4 % modified but 200 M rows
		pgTable("we\"ird", 1000, 300, 0, true), // a name to quote
	}
	th := DefaultThresholds()
	for _, tc := range []struct {
		name string
		job  *spec.Job
		want []string
	}{
		{"vacuum: only tables with ≥ 20 % dead rows", job(spec.ActionVacuum),
			[]string{`VACUUM "public"."bloated"`, `VACUUM "public"."we""ird"`}},
		{"analyze: never analyzed, ≥ 10 %, or ≥ 100 M rows", job(spec.ActionAnalyze),
			[]string{`ANALYZE "public"."fresh"`, `ANALYZE "public"."huge"`, `ANALYZE "public"."loaded"`}},
		{"vacuum_full without the exclusive lock runs plain VACUUM", job(spec.ActionVacuumFull),
			[]string{`VACUUM "public"."bloated"`, `VACUUM "public"."we""ird"`}},
		{"vacuum_full with the exclusive lock", job(spec.ActionVacuumFull, func(j *spec.Job) { j.AllowExclusiveLock = true }),
			[]string{`VACUUM FULL "public"."bloated"`, `VACUUM FULL "public"."we""ird"`}},
		{"when overrides the default", job(spec.ActionVacuum, func(j *spec.Job) {
			j.When = &spec.Condition{Metric: "unused_percent", Comparison: "GreaterThanOrEqualToThreshold", Threshold: 30}
		}), []string{`VACUUM "public"."bloated"`}},
		{"rows_loaded condition (the seed's large load)", job(spec.ActionAnalyze, func(j *spec.Job) {
			j.When = &spec.Condition{Metric: "rows_loaded", Comparison: "GreaterThanOrEqualToThreshold", Threshold: 1000}
		}), []string{`ANALYZE "public"."huge"`, `ANALYZE "public"."loaded"`}},
		{"table patterns", job(spec.ActionVacuum, func(j *spec.Job) { j.Tables = []string{"public.*"}; j.ExcludeTables = []string{"public.we*"} }),
			[]string{`VACUUM "public"."bloated"`}},
		{"unsorted_percent does not exist on PostgreSQL", job(spec.ActionVacuum, func(j *spec.Job) {
			j.When = &spec.Condition{Metric: "unsorted_percent", Comparison: "GreaterThanOrEqualToThreshold", Threshold: 0}
		}), nil},
		{"no ANALYZE COMPRESSION on PostgreSQL", job(spec.ActionAnalyzeCompression), nil},
		{"capacity review is planned elsewhere", job(spec.ActionCapacityReview), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := statements(PlanJob(spec.EnginePostgres, tc.job, tables, th))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestPlanRedshift(t *testing.T) {
	tables := []TableStats{
		rsTable("deleted", 1000, 700, 0, 0, 100, -1),        // 30 % unused
		rsTable("unsorted", 1000, 1000, 12.5, 0, 100, -1),   // unsorted only
		rsTable("stale", 1000, 1000, 0, 40, 100, -1),        // stats off
		rsTable("clean", 1000, 1000, 1, 2, 100, -1),         // nothing
		rsTable("giant", 1e9, 1e9, 80, 0, 800*1024, -1),     // deep copy
		rsTable("loaded", 1e9, 1e9, 0, 5, 100, 150_000_000), // big load
		rsTable("empty", 0, 0, 0, 0, 1, -1),                 // nothing
	}
	th := DefaultThresholds()
	for _, tc := range []struct {
		name string
		job  *spec.Job
		want []string
	}{
		{"vacuum: FULL where space is unused, SORT ONLY where only sorting is needed, deep copy for the giant", job(spec.ActionVacuum),
			[]string{`VACUUM FULL "raw"."deleted"`, "deep_copy raw.giant", `VACUUM SORT ONLY "raw"."unsorted"`}},
		{"vacuum_delete_only: unused space only", job(spec.ActionVacuumDeleteOnly),
			[]string{`VACUUM DELETE ONLY "raw"."deleted"`}},
		{"vacuum_sort_only: unsorted only", job(spec.ActionVacuumSortOnly),
			[]string{"deep_copy raw.giant", `VACUUM SORT ONLY "raw"."unsorted"`}},
		{"vacuum_full: the seed's manual trigger", job(spec.ActionVacuumFull, func(j *spec.Job) {
			j.When = &spec.Condition{Metric: "unused_percent", Comparison: "GreaterThanOrEqualToThreshold", Threshold: 20}
		}), []string{`VACUUM FULL "raw"."deleted"`}},
		{"analyze: stats_off > 10 or a load of ≥ 100 M rows", job(spec.ActionAnalyze),
			[]string{`ANALYZE "raw"."loaded"`, `ANALYZE "raw"."stale"`}},
		{"analyze compression: every table with rows", job(spec.ActionAnalyzeCompression),
			[]string{`ANALYZE COMPRESSION "raw"."clean"`, `ANALYZE COMPRESSION "raw"."deleted"`, `ANALYZE COMPRESSION "raw"."giant"`,
				`ANALYZE COMPRESSION "raw"."loaded"`, `ANALYZE COMPRESSION "raw"."stale"`, `ANALYZE COMPRESSION "raw"."unsorted"`}},
		{"when on unsorted_percent", job(spec.ActionVacuum, func(j *spec.Job) {
			j.When = &spec.Condition{Metric: "unsorted_percent", Comparison: "GreaterThanThreshold", Threshold: 10}
		}), []string{"deep_copy raw.giant", `VACUUM SORT ONLY "raw"."unsorted"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := statements(PlanJob(spec.EngineRedshiftServerless, tc.job, tables, th))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestPlanReasons(t *testing.T) {
	items := PlanJob(spec.EnginePostgres, job(spec.ActionAnalyze), []TableStats{pgTable("loaded", 1000, 0, 5000, true)}, DefaultThresholds())
	if len(items) != 1 || !strings.Contains(items[0].Reason, "5000 rows modified since the last ANALYZE") {
		t.Fatalf("%+v", items)
	}
	items = PlanJob(spec.EngineRedshiftServerless, job(spec.ActionVacuum), []TableStats{rsTable("giant", 1e9, 1e9, 80, 0, 800*1024, -1)}, DefaultThresholds())
	if len(items) != 1 || !items[0].Advice() || !strings.HasPrefix(items[0].Reason, "deep copy recommended") {
		t.Fatalf("%+v", items)
	}
}
