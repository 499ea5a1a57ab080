package collect_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/backend/postgres"
	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/store"
)

// BenchmarkCycle500Tables measures one collection cycle of the local
// example's metrics (plus per-table health) on a PostgreSQL warehouse with
// 500 tables: its time, its round trips and the statements it sends. The
// figures go to bench/RESULTS.md (goals: one round trip, < 100 ms).
func BenchmarkCycle500Tables(b *testing.B) {
	dsn := pgtest.DB(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	var ddl strings.Builder
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&ddl, "CREATE TABLE t%03d (id int PRIMARY KEY, v text); INSERT INTO t%03d SELECT g, 'x' FROM generate_series(1, 20) g;", i, i)
	}
	if _, err := conn.Exec(ctx, ddl.String()); err != nil {
		b.Fatal(err)
	}
	conn.Close(ctx)
	s := localSpec(b, dsn, "")
	client := pgwire.New(dsn, 5*time.Second, collect.ApplicationName)
	w := postgres.New(client, 10*time.Second)
	defer w.Close()
	if err := w.Init(ctx); err != nil {
		b.Fatal(err)
	}
	for _, stored := range []bool{false, true} {
		b.Run(fmt.Sprintf("stored=%v", stored), func(b *testing.B) {
			opts := collect.Options{Spec: s, Warehouse: w}
			if stored {
				st, err := store.Open(ctx, b.TempDir(), store.Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer st.Close()
				opts.Store = st
			}
			c := collect.New(opts)
			if _, err := c.Cycle(ctx, true); err != nil { // connect, baselines
				b.Fatal(err)
			}
			trips, stmts := client.RoundTrips(), client.Statements()
			b.ResetTimer()
			readings := 0
			for i := 0; i < b.N; i++ {
				res, err := c.Cycle(ctx, true)
				if err != nil {
					b.Fatal(err)
				}
				readings = len(res.Readings)
			}
			b.StopTimer()
			b.ReportMetric(float64(client.RoundTrips()-trips)/float64(b.N), "roundtrips/cycle")
			b.ReportMetric(float64(client.Statements()-stmts)/float64(b.N), "statements/cycle")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/cycle")
			b.ReportMetric(float64(readings), "readings/cycle")
		})
	}
}
