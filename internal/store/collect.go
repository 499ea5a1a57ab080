package store

import (
	"context"
	"database/sql"

	"fmt"
	"time"
)

// State is a value a collector keeps across cycles and restarts.
type State struct {
	Value float64
	Time  time.Time
}

// States returns every stored collector state by key.
func (s *Store) States(ctx context.Context) (map[string]State, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT key, value, ts FROM collector_state`)
	if err != nil {
		return nil, fmt.Errorf("collector state: %w", err)
	}
	defer rows.Close()
	out := map[string]State{}
	for rows.Next() {
		var k string
		var st State
		var ts int64
		if err := rows.Scan(&k, &st.Value, &ts); err != nil {
			return nil, err
		}
		st.Time = FromMillis(ts)
		out[k] = st
	}
	return out, rows.Err()
}

// Health is what a collector last did.
type Health struct {
	Collector   string
	LastRun     time.Time
	LastSuccess time.Time
	LastError   string
	LastErrorAt time.Time
	Duration    time.Duration
	Statements  int64
	Wakeups     int64
	Datapoints  int64
}

// CycleWrite is everything one collection cycle stores, written in one
// transaction: its datapoints, its states, its health and log lines.
type CycleWrite struct {
	Datapoints []Datapoint
	States     map[string]State
	Health     []Health
	Logs       []LogLine
	// Runs are the pipeline runs the cycle saw, new or changed.
	Runs []PipelineRun
}

// PipelineRun is a run of the pipeline as the collector saw it: a Step
// Functions execution or an ops.pipeline_runs row.
type PipelineRun struct {
	Pipeline string
	// ID is the execution's name or the ledger row's id.
	ID       string
	Started  time.Time
	Finished *time.Time
	// Status is as the source says it (SUCCEEDED, FAILED, RUNNING;
	// succeeded, failed, running).
	Status string
}

// WriteCycle stores a cycle's results in one transaction, so that a
// watermark never advances without the datapoints counted up to it.
func (s *Store) WriteCycle(ctx context.Context, w CycleWrite) error {
	if err := checkDatapoints(w.Datapoints); err != nil {
		return fmt.Errorf("insert datapoints: %w", err)
	}
	var created map[seriesKey]int64
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		created = map[seriesKey]int64{}
		if err := s.insertDatapoints(ctx, tx, w.Datapoints, created); err != nil {
			return err
		}
		for k, st := range w.States {
			if _, err := tx.ExecContext(ctx, `INSERT INTO collector_state (key, value, ts) VALUES (?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value, ts = excluded.ts`, k, st.Value, Millis(st.Time)); err != nil {
				return err
			}
		}
		for _, h := range w.Health {
			if err := upsertHealth(ctx, tx, h); err != nil {
				return err
			}
		}
		for _, r := range w.Runs {
			var fin any
			if r.Finished != nil {
				fin = Millis(*r.Finished)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO pipeline_runs (pipeline, run_id, started_at, finished_at, status) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (pipeline, run_id) DO UPDATE SET started_at = excluded.started_at, finished_at = excluded.finished_at, status = excluded.status`,
				r.Pipeline, r.ID, Millis(r.Started), fin, r.Status); err != nil {
				return err
			}
		}
		for _, l := range w.Logs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO log_lines (ts, source, severity, message, detail) VALUES (?, ?, ?, ?, ?)`,
				Millis(l.Time), l.Source, l.Severity, l.Message, l.Detail); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write cycle: %w", err)
	}
	s.seriesMu.Lock()
	for k, id := range created {
		s.seriesIDs[k] = id
	}
	s.seriesMu.Unlock()
	return nil
}

func upsertHealth(ctx context.Context, tx *sql.Tx, h Health) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO collector_health
		(collector, last_run_at, last_success_at, last_error, last_error_at, duration_ms, statements, wakeups, datapoints)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (collector) DO UPDATE SET
			last_run_at = excluded.last_run_at,
			last_success_at = CASE WHEN excluded.last_success_at > 0 THEN excluded.last_success_at ELSE collector_health.last_success_at END,
			last_error = excluded.last_error,
			last_error_at = CASE WHEN excluded.last_error <> '' THEN excluded.last_error_at ELSE collector_health.last_error_at END,
			duration_ms = excluded.duration_ms,
			statements = collector_health.statements + excluded.statements,
			wakeups = collector_health.wakeups + excluded.wakeups,
			datapoints = collector_health.datapoints + excluded.datapoints`,
		h.Collector, millisOrZero(h.LastRun), millisOrZero(h.LastSuccess), h.LastError, millisOrZero(h.LastErrorAt),
		h.Duration.Milliseconds(), h.Statements, h.Wakeups, h.Datapoints)
	return err
}

func millisOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return Millis(t)
}

func timeOrZero(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return FromMillis(ms)
}

// HealthAll returns every collector's health; Statements, Wakeups and
// Datapoints are totals since the store was created.
func (s *Store) HealthAll(ctx context.Context) ([]Health, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT collector, last_run_at, last_success_at, last_error, last_error_at,
		duration_ms, statements, wakeups, datapoints FROM collector_health ORDER BY collector`)
	if err != nil {
		return nil, fmt.Errorf("collector health: %w", err)
	}
	defer rows.Close()
	var out []Health
	for rows.Next() {
		var h Health
		var run, ok, errAt, dur int64
		if err := rows.Scan(&h.Collector, &run, &ok, &h.LastError, &errAt, &dur, &h.Statements, &h.Wakeups, &h.Datapoints); err != nil {
			return nil, err
		}
		h.LastRun, h.LastSuccess, h.LastErrorAt = timeOrZero(run), timeOrZero(ok), timeOrZero(errAt)
		h.Duration = time.Duration(dur) * time.Millisecond
		out = append(out, h)
	}
	return out, rows.Err()
}

// LogLine is one error line of the warehouse's logs.
type LogLine struct {
	Time     time.Time
	Source   string
	Severity string
	Message  string
	Detail   string
}

// LatestLogs returns the newest log lines, newest first.
func (s *Store) LatestLogs(ctx context.Context, limit int) ([]LogLine, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT ts, source, severity, message, detail FROM log_lines
		ORDER BY ts DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("log lines: %w", err)
	}
	defer rows.Close()
	var out []LogLine
	for rows.Next() {
		var l LogLine
		var ts int64
		if err := rows.Scan(&ts, &l.Source, &l.Severity, &l.Message, &l.Detail); err != nil {
			return nil, err
		}
		l.Time = FromMillis(ts)
		out = append(out, l)
	}
	return out, rows.Err()
}

// PipelineRunsBetween returns the runs that overlap [from, to], oldest
// first: started before to, and not finished before from.
func (s *Store) PipelineRunsBetween(ctx context.Context, from, to time.Time) ([]PipelineRun, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT pipeline, run_id, started_at, finished_at, status FROM pipeline_runs
		WHERE started_at <= ? AND (finished_at IS NULL OR finished_at >= ?) ORDER BY started_at, id`, Millis(to), Millis(from))
	if err != nil {
		return nil, fmt.Errorf("pipeline runs: %w", err)
	}
	defer rows.Close()
	var out []PipelineRun
	for rows.Next() {
		var r PipelineRun
		var started int64
		var fin sql.NullInt64
		if err := rows.Scan(&r.Pipeline, &r.ID, &started, &fin, &r.Status); err != nil {
			return nil, err
		}
		r.Started = FromMillis(started)
		if fin.Valid {
			t := FromMillis(fin.Int64)
			r.Finished = &t
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
