package pgwire_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
)

// backendPID asks the session itself for its process id.
func backendPID(t *testing.T, ctx context.Context, c *pgwire.Client) int64 {
	t.Helper()
	res, err := c.Run(ctx, []pgwire.Query{{SQL: "SELECT pg_backend_pid()"}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("pg_backend_pid: %v %v", err, res[0].Err)
	}
	pid, err := strconv.ParseInt(res[0].Rows[0][0].Text, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// TestSessionsHoldTheProcessIDsOfOwnConnections: a client that runs under
// a context carrying the set is in it by the process id the server gave
// it; another session, whatever its name, is not; a session that broke or
// closed leaves the set, and the client's next connection joins it even
// without the context.
func TestSessionsHoldTheProcessIDsOfOwnConnections(t *testing.T) {
	dsn := pgtest.DB(t)
	own := pgwire.NewSessions()
	ctx := pgwire.WithSessions(context.Background(), own)
	if pgwire.SessionsFrom(context.Background()) != nil || pgwire.SessionsFrom(ctx) != own {
		t.Fatal("SessionsFrom must return the set the context carries, and only it")
	}
	c := pgwire.New(dsn, 5*time.Second, "dpcops-maintenance")
	defer c.Close()
	pid := backendPID(t, ctx, c)
	if !own.Has(pid) || own.Len() != 1 {
		t.Fatalf("the client's session %d is not in the set (%d sessions)", pid, own.Len())
	}

	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "dpcops-evade"
	other, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())
	if own.Has(int64(other.PgConn().PID())) {
		t.Error("a session that calls itself dpcops-* is in the set")
	}

	// The session breaks: its id leaves the set, and the client's next
	// session joins it, even under a context without the set.
	if _, err := other.Exec(context.Background(), "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(context.Background(), []pgwire.Query{{SQL: "SELECT 1"}}); err == nil {
		t.Fatal("want an error from the broken connection")
	}
	if own.Has(pid) || own.Len() != 0 {
		t.Errorf("the broken session %d is still in the set", pid)
	}
	next := backendPID(t, context.Background(), c)
	if !own.Has(next) || own.Has(pid) || own.Len() != 1 {
		t.Errorf("after reconnecting: has new %d %v, has old %d %v", next, own.Has(next), pid, own.Has(pid))
	}
	c.Close()
	if own.Has(next) || own.Len() != 0 {
		t.Errorf("a closed session is still in the set")
	}
	if (*pgwire.Sessions)(nil).Has(next) {
		t.Error("a nil set has no sessions")
	}
}

// TestOnlyBusySessionsCount: a session counts in Busy only while it runs a
// query. An idle one may be ended by the server and its process id given
// to a stranger's session, which must not inherit the exemption.
func TestOnlyBusySessionsCount(t *testing.T) {
	dsn := pgtest.DB(t)
	own := pgwire.NewSessions()
	ctx := pgwire.WithSessions(context.Background(), own)
	c := pgwire.New(dsn, 5*time.Second, "dpcops-maintenance")
	defer c.Close()
	pid := backendPID(t, ctx, c)
	if !own.Has(pid) || len(own.Busy()) != 0 {
		t.Fatalf("idle after a query: has %v, busy %v", own.Has(pid), own.Busy())
	}
	watcher, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close(context.Background())
	sleepCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(sleepCtx, []pgwire.Query{{SQL: "SELECT pg_sleep(30)", Timeout: time.Minute}})
	}()
	pgtest.WaitFor(t, context.Background(), watcher, "the sleep", "SELECT count(*) = 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep%'", pid)
	if busy := own.Busy(); !busy[pid] || len(busy) != 1 {
		t.Errorf("while the sleep runs, busy %v, want only %d", busy, pid)
	}
	stop()
	<-done
	if busy := own.Busy(); len(busy) != 0 {
		t.Errorf("after the query, busy %v", busy)
	}
	if (*pgwire.Sessions)(nil).Busy() == nil {
		t.Error("a nil set's Busy must be an empty map")
	}
}
