package qmr

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
)

// Outcomes of an action (the qmr_actions.outcome values).
const (
	// OutcomeActing is recorded before acting, so that a restart never acts
	// twice on one query.
	OutcomeActing    = "acting"
	OutcomeLogged    = "logged"
	OutcomeNotified  = "notified"
	OutcomeCancelled = "cancelled"
	// OutcomeGone: the query ended before it could be cancelled; nothing
	// was done and nothing went wrong.
	OutcomeGone   = "gone"
	OutcomeFailed = "failed"
)

// Action is what a rule did about a query: who ran it, what it was, and
// why the rule acted.
type Action struct {
	ID      int64     `json:"id"`
	Rule    string    `json:"rule"`
	Action  string    `json:"action"`
	Outcome string    `json:"outcome"`
	At      time.Time `json:"at"`
	Query   Query     `json:"query"`
	// Metric, Value and Threshold say why: the query's execution_time or
	// queue_time, in seconds, against the rule's threshold.
	Metric    string  `json:"metric"`
	Value     float64 `json:"value_seconds"`
	Threshold float64 `json:"threshold_seconds"`
	Error     string  `json:"error,omitempty"`
}

// claim records an action about to be taken; ok is false when the rule
// has acted on the query already (in this process or a previous one).
func claim(ctx context.Context, st *store.Store, a *Action) (bool, error) {
	var id int64
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO qmr_actions
			(rule, query_key, action, outcome, at, query_id, pid, username, database, label, metric, value_s, threshold_s, query_text)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (rule, query_key) DO NOTHING RETURNING id`,
			a.Rule, a.Query.Key(), a.Action, OutcomeActing, store.Millis(a.At), a.Query.ID, a.Query.PID, a.Query.User,
			a.Query.Database, a.Query.Label, a.Metric, a.Value, a.Threshold, a.Query.Text).Scan(&id)
		if err == sql.ErrNoRows {
			return nil
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("record query monitoring action: %w", err)
	}
	a.ID = id
	return id != 0, nil
}

// settle records an action's outcome.
func settle(ctx context.Context, st *store.Store, a Action) error {
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE qmr_actions SET outcome = ?, error = ? WHERE id = ?`, a.Outcome, a.Error, a.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("record query monitoring outcome: %w", err)
	}
	return nil
}

// ReadActions returns the newest recorded actions, newest first (limit ≤
// 0: 100).
func ReadActions(ctx context.Context, st *store.Store, limit int) ([]Action, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := st.Reader().QueryContext(ctx, `SELECT id, rule, action, outcome, at, query_id, pid, username, database,
		label, metric, value_s, threshold_s, query_text, error FROM qmr_actions ORDER BY at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read query monitoring actions: %w", err)
	}
	return scanActions(rows)
}

// ActionsBetween returns the actions taken in [from, to], oldest first.
//
// runbook calls it for an incident's timeline: the queries a rule
// cancelled during an RPU spike are how the incident ended.
func ActionsBetween(ctx context.Context, q store.Querier, from, to time.Time) ([]Action, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, rule, action, outcome, at, query_id, pid, username, database,
		label, metric, value_s, threshold_s, query_text, error FROM qmr_actions WHERE at >= ? AND at <= ? ORDER BY at, id`,
		store.Millis(from), store.Millis(to))
	if err != nil {
		return nil, fmt.Errorf("read query monitoring actions: %w", err)
	}
	return scanActions(rows)
}

func scanActions(rows *sql.Rows) ([]Action, error) {
	defer rows.Close()
	var out []Action
	for rows.Next() {
		var a Action
		var at int64
		if err := rows.Scan(&a.ID, &a.Rule, &a.Action, &a.Outcome, &at, &a.Query.ID, &a.Query.PID, &a.Query.User,
			&a.Query.Database, &a.Query.Label, &a.Metric, &a.Value, &a.Threshold, &a.Query.Text, &a.Error); err != nil {
			return nil, err
		}
		a.At = store.FromMillis(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Prune deletes, in batches, the actions taken before before. An action
// still being taken (acting) stays, and so does the newest, so that its id
// is never handed to a new one: a notified action's id is in its
// notification's dedup key.
func Prune(ctx context.Context, st *store.Store, before time.Time) (store.Pruned, error) {
	return st.PruneRows(ctx, store.Pruning{
		Table: "qmr_actions",
		Candidates: `SELECT id, '', 0 FROM qmr_actions WHERE id > ?1 AND outcome <> 'acting' AND +at < ?3
			AND id < (SELECT max(id) FROM qmr_actions) ORDER BY id LIMIT ?2`,
		Args:    []any{store.Millis(before)},
		Deletes: []string{`DELETE FROM qmr_actions WHERE id IN (%s)`},
	})
}
