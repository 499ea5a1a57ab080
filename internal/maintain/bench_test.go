package maintain

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// benchWarehouse creates n tables of rows rows each (autovacuum off),
// vacuums and analyzes them all (a warehouse in a steady state), and
// returns the database and a runner of a vacuum job and an analyze job.
func benchWarehouse(b *testing.B, n, rows int) (*pgx.Conn, *Runner) {
	b.Helper()
	ctx := context.Background()
	dsn := pgtest.DB(b)
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close(context.Background()) })
	var sql strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sql, "CREATE TABLE t%04d (id int PRIMARY KEY, pad text) WITH (autovacuum_enabled = false);\n", i)
		fmt.Fprintf(&sql, "INSERT INTO t%04d SELECT g, repeat('x', 60) FROM generate_series(1, %d) g;\n", i, rows)
	}
	if _, err := db.Exec(ctx, sql.String()); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{"SELECT pg_stat_force_next_flush()", "VACUUM ANALYZE"} {
		if _, err := db.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	st, err := store.Open(ctx, b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	s := testSpec(b, dsn, vacuumJob+analyzeJob)
	r, err := NewRunner(Options{Spec: s, Store: st})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	return db, r
}

// BenchmarkPlan1000Tables plans a vacuum and an analyze job over 1 000
// tables: one read of pg_stat_user_tables and the planning itself.
func BenchmarkPlan1000Tables(b *testing.B) {
	_, r := benchWarehouse(b, 1000, 100)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Plan(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlanJobCPU is the planning alone, over 1 000 tables' figures.
func BenchmarkPlanJobCPU(b *testing.B) {
	tables := make([]TableStats, 1000)
	for i := range tables {
		tables[i] = pgTable(fmt.Sprintf("t%04d", i), 10000, int64(i%50)*100, int64(i%20)*100, true)
	}
	j := &spec.Job{Name: "v", Action: spec.ActionVacuum}
	for b.Loop() {
		PlanJob(spec.EnginePostgres, j, tables, DefaultThresholds())
	}
}

const (
	benchTables = 200
	benchNeedy  = benchTables / 20 // 5 %
)

// benchRows is the rows of each table of the maintenance benchmarks:
// go test -bench Maintenance -args -bench-rows 5000.
var benchRows = flag.Int("bench-rows", 50000, "rows per table in the maintenance benchmarks")

// bloat deletes 30 % of the rows of every 20th table and loads them
// again, so that those tables need a VACUUM and an ANALYZE again.
func bloat(b *testing.B, db *pgx.Conn) {
	b.Helper()
	ctx := context.Background()
	var sql strings.Builder
	for i := 0; i < benchTables; i += benchTables / benchNeedy {
		fmt.Fprintf(&sql, "DELETE FROM t%04d WHERE id %% 10 < 3;\n", i)
		fmt.Fprintf(&sql, "INSERT INTO t%04d SELECT g, repeat('y', 60) FROM generate_series(1, %d) g WHERE g %% 10 < 3;\n", i, *benchRows)
	}
	for _, q := range []string{sql.String(), "SELECT pg_stat_force_next_flush()"} {
		if _, err := db.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSelectiveMaintenance runs the vacuum and analyze jobs on a
// warehouse where 5 % of the tables need them.
func BenchmarkSelectiveMaintenance(b *testing.B) {
	db, r := benchWarehouse(b, benchTables, *benchRows)
	ctx := context.Background()
	statements := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		bloat(b, db)
		b.StartTimer()
		for _, job := range []string{"weekly-vacuum", "analyze-after-pipeline"} {
			runs, err := r.Run(ctx, job, false)
			if err != nil {
				b.Fatal(err)
			}
			statements += len(runs)
		}
	}
	b.ReportMetric(float64(statements)/float64(b.N), "statements/op")
}

// BenchmarkVacuumAnalyzeEveryTable is the alternative: VACUUM ANALYZE of
// each table, as a maintenance script without a planner does.
func BenchmarkVacuumAnalyzeEveryTable(b *testing.B) {
	db, _ := benchWarehouse(b, benchTables, *benchRows)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		bloat(b, db)
		b.StartTimer()
		for t := 0; t < benchTables; t++ {
			if _, err := db.Exec(ctx, fmt.Sprintf("VACUUM ANALYZE t%04d", t)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(benchTables, "statements/op")
}
