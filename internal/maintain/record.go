package maintain

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
)

// Outcomes of a recorded run (the maintenance_runs.outcome values).
const (
	OutcomeRunning   = "running"
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
	// OutcomeSkipped: nothing ran (table dropped, lock not granted, a
	// pipeline run open, another VACUUM running, no equivalent on the
	// engine).
	OutcomeSkipped = "skipped"
	// OutcomeMissed: a scheduled run that dpcops was not there to start and
	// that was too old to catch up.
	OutcomeMissed = "missed"
	// OutcomeCancelled: the statement was stopped before it finished (an
	// operator's cancel, its statement timeout, dpcops shutting down).
	OutcomeCancelled = "cancelled"
)

// Figures are a table's numbers before or after a statement: on
// PostgreSQL live_rows, dead_rows, dead_percent, modified_since_analyze,
// size_mb, vacuums, analyzes; on Redshift tbl_rows, visible_rows,
// unused_percent, unsorted_percent, stats_off, size_mb.
type Figures map[string]float64

// derive adds the shares computed from the raw figures.
func (f Figures) derive() {
	if live, ok := f["live_rows"]; ok {
		if all := live + f["dead_rows"]; all > 0 {
			f["dead_percent"] = math.Round(10000*f["dead_rows"]/all) / 100
		} else {
			f["dead_percent"] = 0
		}
	}
	if rows, ok := f["tbl_rows"]; ok {
		if rows > 0 {
			f["unused_percent"] = math.Round(10000*math.Max(0, rows-f["visible_rows"])/rows) / 100
		} else {
			f["unused_percent"] = 0
		}
	}
}

// Run is one recorded run: of one statement on one table, or of a whole
// job when it could not start (Target is then empty).
type Run struct {
	ID         int64      `json:"id"`
	Job        string     `json:"job"`
	Action     string     `json:"action"`
	Target     string     `json:"target"`
	Statement  string     `json:"statement"`
	Reason     string     `json:"reason"`
	Trigger    string     `json:"trigger"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Outcome    string     `json:"outcome"`
	Error      string     `json:"error,omitempty"`
	Before     Figures    `json:"before,omitempty"`
	After      Figures    `json:"after,omitempty"`
}

// Duration is how long the run took; 0 while it runs.
func (r Run) Duration() time.Duration {
	if r.FinishedAt == nil {
		return 0
	}
	return r.FinishedAt.Sub(r.StartedAt)
}

func encodeFigures(f Figures) string {
	if len(f) == 0 {
		return "{}"
	}
	b, err := json.Marshal(f)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// insertRun records a run and returns its id. A run with an outcome other
// than running is recorded finished.
func insertRun(ctx context.Context, st *store.Store, r Run) (int64, error) {
	var id int64
	var finished any
	if r.FinishedAt != nil {
		finished = store.Millis(*r.FinishedAt)
	}
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO maintenance_runs
			(job, action, target, statement, reason, trigger, started_at, finished_at, outcome, error, before, after)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.Job, r.Action, r.Target, r.Statement, r.Reason, r.Trigger, store.Millis(r.StartedAt), finished,
			r.Outcome, r.Error, encodeFigures(r.Before), encodeFigures(r.After)).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("record maintenance run: %w", err)
	}
	return id, nil
}

// finishRun records a run's end, and the ANALYZE COMPRESSION report it
// produced, in one transaction.
func finishRun(ctx context.Context, st *store.Store, r Run, report []CompressionRow) error {
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE maintenance_runs SET finished_at = ?, outcome = ?, error = ?, after = ?
			WHERE id = ?`, store.Millis(*r.FinishedAt), r.Outcome, r.Error, encodeFigures(r.After), r.ID); err != nil {
			return err
		}
		for _, c := range report {
			if _, err := tx.ExecContext(ctx, `INSERT INTO maintenance_compression
				(run_id, table_name, column_name, encoding, est_reduction_pct) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (run_id, table_name, column_name) DO UPDATE
				SET encoding = excluded.encoding, est_reduction_pct = excluded.est_reduction_pct`,
				r.ID, c.Table, c.Column, c.Encoding, c.EstReductionPct); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record the end of maintenance run %d: %w", r.ID, err)
	}
	return nil
}

// ReadRuns returns the newest recorded runs, newest first (limit ≤ 0: 100).
func ReadRuns(ctx context.Context, st *store.Store, limit int) ([]Run, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := st.Reader().QueryContext(ctx, `SELECT id, job, action, target, statement, reason, trigger,
		started_at, finished_at, outcome, error, before, after
		FROM maintenance_runs ORDER BY started_at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read maintenance runs: %w", err)
	}
	return scanRuns(rows)
}

// scanRuns reads every run of rows and closes them.
func scanRuns(rows *sql.Rows) ([]Run, error) {
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("read maintenance runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RunsBetween returns the runs started between from and to (both
// included), read through q, in the order they started.
//
// runbook calls it to put on an incident's timeline the maintenance that
// ran during the incident, which may be its cause or its cure.
func RunsBetween(ctx context.Context, q store.Querier, from, to time.Time) ([]Run, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, job, action, target, statement, reason, trigger,
		started_at, finished_at, outcome, error, before, after
		FROM maintenance_runs WHERE started_at >= ? AND started_at <= ? ORDER BY started_at, id`, store.Millis(from), store.Millis(to))
	if err != nil {
		return nil, fmt.Errorf("read maintenance runs: %w", err)
	}
	return scanRuns(rows)
}

func scanRun(rows *sql.Rows) (Run, error) {
	var r Run
	var started int64
	var finished sql.NullInt64
	var before, after string
	if err := rows.Scan(&r.ID, &r.Job, &r.Action, &r.Target, &r.Statement, &r.Reason, &r.Trigger,
		&started, &finished, &r.Outcome, &r.Error, &before, &after); err != nil {
		return r, err
	}
	r.StartedAt = store.FromMillis(started)
	if finished.Valid {
		f := store.FromMillis(finished.Int64)
		r.FinishedAt = &f
	}
	_ = json.Unmarshal([]byte(before), &r.Before)
	_ = json.Unmarshal([]byte(after), &r.After)
	return r, nil
}

// closeStale records as failed the runs still marked running long after
// any statement could still be running (a dpcops that stopped mid-run).
func closeStale(ctx context.Context, st *store.Store, olderThan, now time.Time) (int64, error) {
	var n int64
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE maintenance_runs SET outcome = 'failed', finished_at = ?,
			error = 'no end recorded: dpcops stopped while it ran' WHERE outcome = 'running' AND started_at < ?`,
			store.Millis(now), store.Millis(olderThan))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
