package qmr

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

func testSpec(t *testing.T, dsn, rules string) *spec.Spec {
	t.Helper()
	y := `platform: dpc-test
warehouse:
  engine: postgres
  dsn: ${DSN}
topics:
  dpc-alerts:
    subscriptions: [inbox]
channels:
  inbox:
    type: inbox
qmr:
` + rules
	s, diags := spec.Parse("qmr.yaml", []byte(y), spec.Options{LookupEnv: func(k string) (string, bool) { return dsn, k == "DSN" }})
	if diags.HasErrors() {
		t.Fatalf("spec: %v", diags.Errors())
	}
	return s
}

// hook records the events it is given.
type hook struct {
	mu     sync.Mutex
	events []Event
	err    error
}

func (h *hook) notify(_ context.Context, e Event) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, e)
	return h.err
}

func (h *hook) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.events)
}

type rig struct {
	t   *testing.T
	ctx context.Context
	dsn string
	db  *pgx.Conn
	st  *store.Store
	h   *hook
	m   *Monitor
}

func newRig(t *testing.T, rules string) *rig {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.DB(t)
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	st := storetest.Open(t)
	g := &rig{t: t, ctx: ctx, dsn: dsn, db: db, st: st, h: &hook{}}
	g.m = g.monitor(testSpec(t, dsn, rules), nil)
	return g
}

func (g *rig) monitor(s *spec.Spec, src Source) *Monitor {
	g.t.Helper()
	m, err := New(Options{Spec: s, Store: g.st, Notify: g.h.notify, Source: src})
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { m.Close() })
	return m
}

// sleeper is a session running pg_sleep under an application name.
type sleeper struct {
	conn *pgx.Conn
	pid  uint32
	done chan error
}

func (g *rig) sleep(app string, seconds float64) *sleeper {
	g.t.Helper()
	cfg, err := pgx.ParseConfig(g.dsn)
	if err != nil {
		g.t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = app
	conn, err := pgx.ConnectConfig(g.ctx, cfg)
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { conn.Close(context.Background()) })
	s := &sleeper{conn: conn, pid: conn.PgConn().PID(), done: make(chan error, 1)}
	go func() {
		_, err := conn.Exec(g.ctx, `SELECT pg_sleep($1)`, seconds)
		s.done <- err
	}()
	g.waitFor("the sleeper to run", `SELECT count(*) > 0 FROM pg_stat_activity WHERE pid = $1 AND state = 'active' AND query LIKE '%pg_sleep%'`, s.pid)
	return s
}

// waitFor polls the server until query returns true (pgtest.WaitFor).
func (g *rig) waitFor(what, query string, args ...any) {
	g.t.Helper()
	pgtest.WaitFor(g.t, g.ctx, g.db, what, query, args...)
}

// runFor waits until the sleeper's query has run longer than d.
func (g *rig) runFor(s *sleeper, d time.Duration) {
	g.t.Helper()
	g.waitFor("the query to run long", `SELECT count(*) > 0 FROM pg_stat_activity WHERE pid = $1 AND state = 'active' AND now() - query_start > $2::interval`,
		s.pid, d.String())
}

func cancelled(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "57014"
}

const abortRule = `  - name: long-running-query
    metric: execution_time
    threshold: 2
    action: abort
    topics: [dpc-alerts]
`

func TestALongQueryIsCancelledAndAShortOneLeftAlone(t *testing.T) {
	g := newRig(t, abortRule)
	long := g.sleep("tableau", 60)
	g.runFor(long, 2200*time.Millisecond)
	short := g.sleep("tableau", 30)
	now := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	actions, err := g.m.Check(g.ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(actions) != 1 || actions[0].Outcome != OutcomeCancelled || actions[0].Query.PID != int64(long.pid) {
		t.Fatalf("actions %+v", actions)
	}
	if err := <-long.done; !cancelled(err) {
		t.Errorf("the long query ended with %v, want cancelled", err)
	}
	select {
	case err := <-short.done:
		t.Fatalf("the short query was stopped: %v", err)
	default:
	}
	rec, err := ReadActions(g.ctx, g.st, 10)
	if err != nil || len(rec) != 1 {
		t.Fatalf("recorded %+v %v", rec, err)
	}
	r := rec[0]
	if r.Rule != "long-running-query" || r.Action != "abort" || r.Outcome != OutcomeCancelled || !r.At.Equal(now) ||
		r.Query.User != "postgres" || r.Query.Label != "tableau" || !strings.Contains(r.Query.Text, "pg_sleep") ||
		r.Metric != "execution_time" || r.Value <= 2 || r.Threshold != 2 {
		t.Errorf("recorded %+v", r)
	}
	if g.h.count() != 1 || g.h.events[0].Topics[0] != "dpc-alerts" || !strings.HasSuffix(g.h.events[0].Summary, ": cancelled") {
		t.Errorf("events %+v", g.h.events)
	}
	g.exec(`SELECT pg_cancel_backend($1)`, short.pid)
	<-short.done
}

func (g *rig) exec(sql string, args ...any) {
	g.t.Helper()
	if _, err := g.db.Exec(g.ctx, sql, args...); err != nil {
		g.t.Fatalf("%s: %v", sql, err)
	}
}

// TestAnActionThatCannotBeRecordedIsTriedAgain: the store refuses the
// first claim; the runaway query is not forgotten, and the next check
// cancels it.
func TestAnActionThatCannotBeRecordedIsTriedAgain(t *testing.T) {
	g := newRig(t, abortRule)
	lift := storetest.Refuse(t, g.st, "qmr_actions", "store refused")
	long := g.sleep("tableau", 60)
	g.runFor(long, 2200*time.Millisecond)
	if _, err := g.m.Check(g.ctx, time.Now()); err == nil || !strings.Contains(err.Error(), "store refused") {
		t.Fatalf("first check: %v", err)
	}
	lift()
	actions, err := g.m.Check(g.ctx, time.Now())
	if err != nil || len(actions) != 1 || actions[0].Outcome != OutcomeCancelled {
		t.Fatalf("second check: %+v %v", actions, err)
	}
	if err := <-long.done; !cancelled(err) {
		t.Errorf("the long query ended with %v, want cancelled", err)
	}
}

func TestEachQueryIsActedOnOncePerRule(t *testing.T) {
	g := newRig(t, `  - name: long-running-query
    metric: execution_time
    threshold: 0.5
    action: notify
    topics: [dpc-alerts]
  - name: log-it
    metric: execution_time
    threshold: 0.5
    action: log
`)
	s := g.sleep("analyst", 60)
	g.runFor(s, 600*time.Millisecond)
	for i := 0; i < 3; i++ {
		if _, err := g.m.Check(g.ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	// A restarted dpcops remembers through the store.
	again := g.monitor(g.m.o.Spec, nil)
	if acts, err := again.Check(g.ctx, time.Now()); err != nil || len(acts) != 0 {
		t.Fatalf("after a restart: %+v %v", acts, err)
	}
	if g.h.count() != 1 {
		t.Errorf("notified %d times, want once", g.h.count())
	}
	rec, _ := ReadActions(g.ctx, g.st, 10)
	outcomes := map[string]string{}
	for _, r := range rec {
		outcomes[r.Rule] = r.Outcome
	}
	if len(rec) != 2 || outcomes["long-running-query"] != OutcomeNotified || outcomes["log-it"] != OutcomeLogged {
		t.Errorf("recorded %+v", rec)
	}
	g.exec(`SELECT pg_cancel_backend($1)`, s.pid)
	<-s.done
}

func TestAFailedNotificationIsRecorded(t *testing.T) {
	g := newRig(t, `  - name: long-running-query
    metric: execution_time
    threshold: 0.5
    action: notify
    topics: [dpc-alerts]
`)
	g.h.err = errors.New("outbox full")
	s := g.sleep("analyst", 60)
	g.runFor(s, 600*time.Millisecond)
	acts, err := g.m.Check(g.ctx, time.Now())
	if err != nil || len(acts) != 1 || acts[0].Outcome != OutcomeFailed || acts[0].Error != "notify: outbox full" {
		t.Fatalf("%+v %v", acts, err)
	}
	g.exec(`SELECT pg_cancel_backend($1)`, s.pid)
	<-s.done
}

// staleSource lists what a real source listed earlier, and cancels
// through it: the queries may have ended since.
type staleSource struct {
	listing []Query
	real    Source
}

func (s staleSource) Running(context.Context) ([]Query, error) { return s.listing, nil }
func (s staleSource) Cancel(ctx context.Context, q Query) (bool, error) {
	return s.real.Cancel(ctx, q)
}

func TestAQueryThatEndsJustBeforeItsAbort(t *testing.T) {
	g := newRig(t, abortRule)
	real, err := NewWarehouse(g.m.o.Spec)
	if err != nil {
		t.Fatal(err)
	}
	defer real.Close()
	s := g.sleep("tableau", 2.5)
	g.runFor(s, 2100*time.Millisecond)
	listing, err := real.Running(g.ctx)
	if err != nil || len(listing) != 1 {
		t.Fatalf("listing %+v %v", listing, err)
	}
	if err := <-s.done; err != nil { // the query ends on its own
		t.Fatal(err)
	}
	// The session lives on and runs another query: it must not be hit.
	next := make(chan error, 1)
	go func() {
		_, err := s.conn.Exec(g.ctx, `SELECT pg_sleep(1)`)
		next <- err
	}()
	g.waitFor("the next query", `SELECT count(*) > 0 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`, s.pid)
	m := g.monitor(g.m.o.Spec, staleSource{listing: listing, real: real})
	acts, err := m.Check(g.ctx, time.Now())
	if err != nil {
		t.Fatalf("a query that ended is no error: %v", err)
	}
	if len(acts) != 1 || acts[0].Outcome != OutcomeGone || !strings.Contains(acts[0].Error, "ended before") {
		t.Fatalf("actions %+v", acts)
	}
	if err := <-next; err != nil {
		t.Errorf("the session's next query was hit: %v", err)
	}
	if g.h.count() != 1 || !strings.HasSuffix(g.h.events[0].Summary, "it ended before the cancel") {
		t.Errorf("events %+v", g.h.events)
	}
}

func TestNoCheckWhileTheWarehouseIsIdle(t *testing.T) {
	src := &countingSource{}
	m, err := New(Options{Spec: testSpec(t, "postgres://x@127.0.0.1:1/x", abortRule), Source: src,
		Busy: func(context.Context) (bool, error) { return false, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if acts, err := m.Check(context.Background(), time.Now()); err != nil || len(acts) != 0 || src.n != 0 {
		t.Fatalf("idle: %d listings, %+v %v", src.n, acts, err)
	}
}

type countingSource struct{ n int }

func (c *countingSource) Running(context.Context) ([]Query, error) { c.n++; return nil, nil }
func (c *countingSource) Cancel(context.Context, Query) (bool, error) {
	return false, nil
}
