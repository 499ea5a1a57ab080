package maintain

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/backend/postgres"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

// testSpec is a PostgreSQL spec on dsn with the given maintenance section.
func testSpec(t testing.TB, dsn, maintenance string) *spec.Spec {
	t.Helper()
	y := `platform: dpc-test
timezone: Asia/Tokyo
warehouse:
  engine: postgres
  dsn: ${DSN}
  statement_timeout: 5s
pipeline: {kind: ledger, name: dpc-elt}
maintenance:
` + maintenance
	s, diags := spec.Parse("test.yaml", []byte(y), spec.Options{LookupEnv: func(k string) (string, bool) {
		if k == "DSN" {
			return dsn, true
		}
		return "", false
	}})
	if diags.HasErrors() {
		t.Fatalf("spec: %v", diags.Errors())
	}
	return s
}

// rig is a real PostgreSQL database, a store and a runner over them.
type rig struct {
	t   *testing.T
	ctx context.Context
	dsn string
	db  *pgx.Conn
	st  *store.Store
	s   *spec.Spec
	r   *Runner
}

func newRig(t *testing.T, maintenance string, mod ...func(*Options)) *rig {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.DB(t)
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	st := storetest.Open(t)
	s := testSpec(t, dsn, maintenance)
	o := Options{Spec: s, Store: st, Poll: 20 * time.Millisecond, PipelineWait: time.Second, VacuumWait: time.Second, LockTimeout: 200 * time.Millisecond}
	for _, m := range mod {
		m(&o)
	}
	r, err := NewRunner(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return &rig{t: t, ctx: ctx, dsn: dsn, db: db, st: st, s: s, r: r}
}

func (g *rig) exec(sql string, args ...any) {
	g.t.Helper()
	if _, err := g.db.Exec(g.ctx, sql, args...); err != nil {
		g.t.Fatalf("%s: %v", sql, err)
	}
}

// table creates a table of n rows without autovacuum (so that only dpcops
// vacuums it), analyzes it, deletes deleteEvery-th rows, and flushes the
// statistics so that pg_stat_user_tables shows them at once.
func (g *rig) table(name string, n, deleteEvery int) {
	g.t.Helper()
	g.exec(`CREATE TABLE ` + pgwire.QuoteIdent(name) + ` (id int PRIMARY KEY, pad text) WITH (autovacuum_enabled = false)`)
	g.exec(`INSERT INTO `+pgwire.QuoteIdent(name)+` SELECT i, repeat('x', 50) FROM generate_series(1, $1) i`, n)
	// The insert's counts must reach the shared statistics before ANALYZE
	// resets them, or they land after it as modifications.
	g.flush()
	g.exec(`ANALYZE ` + pgwire.QuoteIdent(name))
	if deleteEvery > 0 {
		g.exec(`DELETE FROM `+pgwire.QuoteIdent(name)+` WHERE id % $1 = 0`, deleteEvery)
	}
	g.flush()
}

// flush makes this session's pending statistics visible now.
func (g *rig) flush() {
	g.t.Helper()
	g.exec(`SELECT pg_stat_force_next_flush()`)
}

// stat reads a figure of pg_stat_user_tables.
func (g *rig) stat(table, column string) int64 {
	g.t.Helper()
	var v int64
	if err := g.db.QueryRow(g.ctx, `SELECT `+column+` FROM pg_stat_user_tables WHERE relname = $1`, table).Scan(&v); err != nil {
		g.t.Fatalf("stat %s.%s: %v", table, column, err)
	}
	return v
}

func (g *rig) runs() []Run {
	g.t.Helper()
	runs, err := ReadRuns(g.ctx, g.st, 100)
	if err != nil {
		g.t.Fatal(err)
	}
	return runs
}

// fakeClock is a clock that moves only when the code under test sleeps.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps int
	// onSleep runs after each sleep with the number of sleeps so far.
	onSleep func(n int)
}

func newFakeClock(at time.Time) *fakeClock { return &fakeClock{now: at} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.sleeps++
	n, hook := c.sleeps, c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return nil
}

// withClock makes a runner use the fake clock.
func withClock(c *fakeClock) func(*Options) {
	return func(o *Options) { o.Now, o.Sleep, o.Poll = c.Now, c.Sleep, 200*time.Millisecond }
}

// ledger creates the ops schema (ops.pipeline_runs) as dpcops warehouse
// init does.
func (g *rig) ledger() {
	g.t.Helper()
	g.exec(postgres.SQL("init"))
}

// slowVacuums makes every new session's VACUUM crawl (cost-based delay),
// so that a test can watch one run.
func (g *rig) slowVacuums(delayMillis int) {
	g.t.Helper()
	var db string
	if err := g.db.QueryRow(g.ctx, `SELECT current_database()`).Scan(&db); err != nil {
		g.t.Fatal(err)
	}
	g.exec(`ALTER DATABASE ` + pgwire.QuoteIdent(db) + ` SET vacuum_cost_delay = ` + strconv.Itoa(delayMillis))
	g.exec(`ALTER DATABASE ` + pgwire.QuoteIdent(db) + ` SET vacuum_cost_limit = 1`)
}

// waitFor polls the server until query returns true (pgtest.WaitFor).
func (g *rig) waitFor(what, query string, args ...any) {
	g.t.Helper()
	pgtest.WaitFor(g.t, g.ctx, g.db, what, query, args...)
}

func qerr(code, msg string) error { return &pgwire.QueryError{Code: code, Message: msg} }
