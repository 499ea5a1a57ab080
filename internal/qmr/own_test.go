package qmr

import (
	"context"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
)

// ownSleeper is a session of dpcops' own, as maintenance opens it: a
// pgwire client named dpcops-maintenance, running under the context that
// carries the process's sessions.
type ownSleeper struct {
	pid  int64
	done chan error
}

func (g *rig) ownSleep(ctx context.Context, seconds string) *ownSleeper {
	g.t.Helper()
	c := pgwire.New(g.dsn, 5*time.Second, "dpcops-maintenance")
	g.t.Cleanup(func() { c.Close() })
	s := &ownSleeper{done: make(chan error, 1)}
	go func() {
		res, err := c.Run(ctx, []pgwire.Query{{Name: "vacuum-like", SQL: "SELECT pg_sleep($1::float8)", Args: []string{seconds}}})
		if err == nil {
			err = res[0].Err
		}
		s.done <- err
	}()
	g.waitFor("dpcops' own query to run", `SELECT count(*) > 0 FROM pg_stat_activity
		WHERE application_name = 'dpcops-maintenance' AND state = 'active' AND query LIKE '%pg_sleep%'`)
	if err := g.db.QueryRow(g.ctx, `SELECT pid FROM pg_stat_activity
		WHERE application_name = 'dpcops-maintenance' AND state = 'active' AND query LIKE '%pg_sleep%'`).Scan(&s.pid); err != nil {
		g.t.Fatal(err)
	}
	// A test that fails early must not wait for the sleep to end.
	g.t.Cleanup(func() { g.db.Exec(context.Background(), `SELECT pg_cancel_backend($1)`, s.pid) })
	return s
}

// TestOwnSessionsAreKnownByProcessIDNotByName: a client that names its
// session dpcops-evade is watched by the user rules like any other, and
// its runaway query is cancelled; dpcops' own maintenance session, known
// by its process id, is left alone by the user rule and watched by the
// rule named dpcops-*.
func TestOwnSessionsAreKnownByProcessIDNotByName(t *testing.T) {
	g := newRig(t, `  - name: long-running-query
    metric: execution_time
    threshold: 0.5
    action: abort
  - name: dpcops-runaway-maintenance
    metric: execution_time
    threshold: 0.5
    action: log
`)
	own := pgwire.NewSessions()
	ctx := pgwire.WithSessions(g.ctx, own)
	mine := g.ownSleep(ctx, "60")
	evader := g.sleep("dpcops-evade", 60)
	g.runFor(evader, 600*time.Millisecond)
	g.waitFor("dpcops' own query to run long", `SELECT now() - query_start > interval '600 ms' FROM pg_stat_activity WHERE pid = $1`, mine.pid)
	if !own.Has(mine.pid) || own.Has(int64(evader.pid)) {
		t.Fatalf("own sessions: has maintenance %v, has evader %v", own.Has(mine.pid), own.Has(int64(evader.pid)))
	}

	acts, err := g.m.Check(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	byRule := map[string]Action{}
	for _, a := range acts {
		byRule[a.Rule] = a
	}
	if a := byRule["long-running-query"]; len(acts) != 2 || a.Query.PID != int64(evader.pid) || a.Outcome != OutcomeCancelled {
		t.Fatalf("the user rule must cancel the evader and only it: %+v", acts)
	}
	if a := byRule["dpcops-runaway-maintenance"]; a.Query.PID != mine.pid || a.Outcome != OutcomeLogged {
		t.Fatalf("the dpcops-* rule must watch dpcops' own session and only it: %+v", acts)
	}
	if err := <-evader.done; !cancelled(err) {
		t.Errorf("the evader's query ended with %v, want cancelled", err)
	}
	select {
	case err := <-mine.done:
		t.Fatalf("dpcops' own query was stopped: %v", err)
	default:
	}
	g.exec(`SELECT pg_cancel_backend($1)`, mine.pid)
	<-mine.done
}
