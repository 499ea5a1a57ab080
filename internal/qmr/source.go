package qmr

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/backend/postgres"
	"github.com/dpc-learning/dpcops/internal/backend/redshift"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// ApplicationName marks query monitoring's own session.
const ApplicationName = "dpcops-qmr"

// Source lists the queries in progress and cancels one.
type Source interface {
	Running(ctx context.Context) ([]Query, error)
	// Cancel cancels the query if it still runs. found is false when it
	// had ended: there was nothing to cancel, which is no error.
	Cancel(ctx context.Context, q Query) (found bool, err error)
}

// Warehouse is the Source over the spec's warehouse, on its own session.
type Warehouse struct {
	c        *pgwire.Client
	postgres bool
	timeout  time.Duration
	sql      func(string) string
}

// NewWarehouse returns the Source of the spec's warehouse; it connects on
// first use.
func NewWarehouse(s *spec.Spec) (*Warehouse, error) {
	w := s.Warehouse
	if !w.DSN.IsSet() {
		return nil, errors.New("query monitoring needs warehouse.dsn")
	}
	wh := &Warehouse{c: pgwire.New(w.DSN.Reveal(), w.ConnectTimeout.D(), ApplicationName),
		postgres: w.Engine == spec.EnginePostgres, timeout: w.StatementTimeout.D(), sql: redshift.SQL}
	if wh.postgres {
		wh.sql = postgres.SQL
	}
	return wh, nil
}

// Close closes the session.
func (w *Warehouse) Close() error { return w.c.Close() }

func (w *Warehouse) q(file string, args ...string) pgwire.Query {
	return pgwire.Query{Name: file, SQL: w.sql(file), Args: args, Timeout: w.timeout}
}

// Running lists the queries in progress, in one round trip (with the user
// names on Redshift).
func (w *Warehouse) Running(ctx context.Context) ([]Query, error) {
	qs := []pgwire.Query{w.q("qmr_running")}
	if !w.postgres {
		qs = append(qs, w.q("qmr_users"))
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout+clientGrace)
	defer cancel()
	res, err := w.c.Run(ctx, qs)
	if err != nil {
		return nil, err
	}
	if res[0].Err != nil {
		return nil, fmt.Errorf("list running queries: %w", res[0].Err)
	}
	users := map[string]string{}
	if len(res) > 1 && res[1].Err == nil {
		for _, row := range res[1].Rows {
			users[row[0].Text] = strings.TrimSpace(row[1].Text)
		}
	}
	return parseRunning(res[0], users)
}

// parseRunning reads (query_id, session_id, user, database, label,
// started_key, started, execution_s, queue_s, query).
func parseRunning(r pgwire.Result, users map[string]string) ([]Query, error) {
	var out []Query
	for _, row := range r.Rows {
		q := Query{User: row[2].Text, Database: row[3].Text, Label: strings.TrimSpace(row[4].Text), StartKey: row[5].Text, Text: row[9].Text}
		if name, ok := users[q.User]; ok {
			q.User = name
		}
		var err error
		if q.ID, err = row[0].Int(); err != nil {
			return nil, fmt.Errorf("running query id: %w", err)
		}
		q.PID, _ = row[1].Int()
		if q.Started, err = row[6].Epoch(); err != nil {
			return nil, fmt.Errorf("running query %d start: %w", q.ID, err)
		}
		q.Execution = seconds(row[7])
		q.Queue = seconds(row[8])
		out = append(out, q)
	}
	return out, nil
}

func seconds(v pgwire.Value) time.Duration {
	f, err := v.Float()
	if err != nil || f < 0 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// Cancel cancels q: on PostgreSQL pg_cancel_backend, only if the backend
// still runs the same query; on Redshift CANCEL on its session, after
// checking that the query is still in progress.
func (w *Warehouse) Cancel(ctx context.Context, q Query) (bool, error) {
	if w.postgres {
		res, err := w.one(ctx, w.q("qmr_cancel", strconv.FormatInt(q.PID, 10), q.StartKey))
		if err != nil {
			return false, err
		}
		return len(res.Rows) == 1 && res.Rows[0][0].Text == "t", nil
	}
	return w.cancelRedshift(ctx, q)
}

func (w *Warehouse) cancelRedshift(ctx context.Context, q Query) (bool, error) {
	check := w.q("qmr_check", strconv.FormatInt(q.ID, 10))
	res, err := w.one(ctx, check)
	if err != nil || len(res.Rows) == 0 {
		return false, err
	}
	pid, err := res.Rows[0][0].Int()
	if err != nil {
		return false, fmt.Errorf("session of query %d: %w", q.ID, err)
	}
	if _, err := w.one(ctx, pgwire.Query{Name: "cancel", SQL: CancelStatement(pid), Timeout: w.timeout}); err != nil {
		// The query may have ended between the check and the cancel.
		if again, cerr := w.one(ctx, check); cerr == nil && len(again.Rows) == 0 {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// CancelStatement is Redshift's CANCEL of a session. The process id is a
// number formatted here, never text from elsewhere.
func CancelStatement(pid int64) string { return "CANCEL " + strconv.FormatInt(pid, 10) }

// clientGrace is how much longer than its statement timeout a query may
// take on the client's side (a connection that hangs).
const clientGrace = 5 * time.Second

func (w *Warehouse) one(ctx context.Context, q pgwire.Query) (pgwire.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, q.Timeout+clientGrace)
	defer cancel()
	res, err := w.c.Run(ctx, []pgwire.Query{q})
	if err != nil {
		return pgwire.Result{}, err
	}
	return res[0], res[0].Err
}
