package maintain

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
)

// Both engines answer these two: pg_backend_pid and pg_cancel_backend are
// PostgreSQL's, and Redshift has them too (PG_CANCEL_BACKEND is its CANCEL).
const (
	backendPIDSQL    = `SELECT pg_backend_pid() AS pid`
	cancelBackendSQL = `SELECT pg_cancel_backend($1::integer) AS cancelled`
)

// cancelGrace bounds how long a run that dpcops stops waits for the server
// to cancel its statement; after it, dpcops drops the session instead.
// cancelAgain is how often it asks the server again meanwhile.
const (
	cancelGrace = 10 * time.Second
	cancelAgain = time.Second
)

// statement runs a maintenance statement on the exec session in autocommit
// (its own implicit transaction, never a transaction block), after the
// session settings, in one round trip: the lock timeout (PostgreSQL) or
// the query group (Redshift), then the statement under its own timeout.
//
// When ctx ends first (dpcops shutting down), the statement is cancelled
// on the server, as an operator's pg_cancel_backend cancels it, and
// statement returns once the server has stopped it, on a session that is
// still dpcops' own. Ending the query through its context instead makes
// the driver drop the connection in the background: the server's session,
// and the VACUUM lock it holds (a session-level advisory lock), would live
// on after the run for as long as the cancel takes to land, and the unlock
// would go to a new session that holds nothing.
func (w *warehouse) statement(ctx context.Context, sql string, timeout, lockTimeout time.Duration) (pgwire.Result, error) {
	// The client's own bound, for a connection that hangs: the statement
	// timeout and a minute more.
	sctx, drop := context.WithTimeout(context.WithoutCancel(ctx), timeout+time.Minute)
	defer drop()
	pid, err := w.execPID(sctx)
	if err != nil {
		return pgwire.Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return pgwire.Result{}, err
	}
	setup := pgwire.Query{Name: "session", SQL: w.sql("maint_session"), Timeout: w.timeout}
	if w.postgres() {
		setup.Args = []string{strconv.FormatInt(lockTimeout.Milliseconds(), 10) + "ms"}
	}
	finished, cancelled := make(chan struct{}), make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(cancelled)
		w.cancelStatement(pid, finished, drop)
	})
	res, err := w.exec.Run(sctx, []pgwire.Query{setup, {Name: "statement", SQL: sql, Timeout: timeout}})
	close(finished)
	if !stop() {
		// A cancel under way must reach the session before its next
		// statement (the unlock) does, or it could cancel that one.
		<-cancelled
	}
	if err != nil {
		return pgwire.Result{}, err
	}
	if res[0].Err != nil {
		return pgwire.Result{}, fmt.Errorf("maintenance session settings: %w", res[0].Err)
	}
	return res[1], res[1].Err
}

// execPID returns the server process id of the exec session, which runs
// the statement in the next round trip. Should the connection break in
// between, the next one has another id, a cancel aimed at this one finds
// nothing, and dropping the session after cancelGrace ends the run.
func (w *warehouse) execPID(ctx context.Context) (int64, error) {
	res, err := w.execRun(ctx, pgwire.Query{Name: "pid", SQL: backendPIDSQL, Timeout: w.timeout})
	if err != nil {
		return 0, fmt.Errorf("maintenance session's process id: %w", err)
	}
	row, err := pgwire.One(res)
	if err != nil {
		return 0, fmt.Errorf("maintenance session's process id: %w", err)
	}
	return row[0].Int()
}

// cancelStatement asks the server, through the read session, to cancel
// the statement of the exec session's process pid, until the statement
// has finished; it asks again every cancelAgain, since the server ignores
// a cancel that reaches the session before its statement does. If the
// server cannot be asked, or the statement is still running after
// cancelGrace, it drops the session: drop ends the statement on the
// client's side.
func (w *warehouse) cancelStatement(pid int64, finished <-chan struct{}, drop func()) {
	giveUp := time.NewTimer(cancelGrace)
	defer giveUp.Stop()
	again := time.NewTicker(cancelAgain)
	defer again.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), w.timeout+clientGrace)
		res, err := w.read.Run(ctx, []pgwire.Query{{Name: "cancel", SQL: cancelBackendSQL, Args: []string{strconv.FormatInt(pid, 10)}, Timeout: w.timeout}})
		cancel()
		if err == nil {
			err = res[0].Err
		}
		if err != nil {
			drop()
			return
		}
		select {
		case <-finished:
			return
		case <-giveUp.C:
			drop()
			return
		case <-again.C:
		}
	}
}
