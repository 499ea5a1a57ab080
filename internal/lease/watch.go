package lease

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/store"
)

// Watcher is who the manager records for what it does on its own.
const Watcher = "dpcops serve"

// overdueGrace lets a lease end a little after its limit before it counts
// as overdue: the check runs every interval.
const overdueGrace = 2 * time.Minute

// Check does what a watching dpcops does each interval: adopt a raise
// made outside dpcops, lower a lease that expired or whose run ended,
// retry a lower that failed, and report a problem (see Problem).
func (m *Manager) Check(ctx context.Context) error {
	now := m.o.Now().UTC()
	open, err := m.Open(ctx)
	if err != nil {
		return err
	}
	if open == nil {
		return m.adopt(ctx, now)
	}
	switch {
	case !now.Before(open.Expires):
		_, _, err = m.Lower(ctx, open.ID, Watcher, "expired at "+open.Expires.Format(time.RFC3339))
	case open.LowerError != "":
		_, _, err = m.Lower(ctx, open.ID, Watcher, "retrying the lower that failed")
	case m.o.Runs != nil && !open.Shared:
		err = m.followRun(ctx, open, now)
	}
	return err
}

// followRun lowers a lease whose pipeline run ended, and ties a lease
// raised before its run began to that run.
func (m *Manager) followRun(ctx context.Context, open *Lease, now time.Time) error {
	if open.Run == "" {
		run := m.currentRun(ctx, open.Pipeline)
		if run == "" {
			return nil
		}
		open.Run = run
		return m.store(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE capacity_leases SET run = ? WHERE id = ?`, run, open.ID)
			return err
		})
	}
	ended, status, err := m.o.Runs.Ended(ctx, open.Pipeline, open.Run)
	if err != nil || !ended {
		return err
	}
	_, _, err = m.Lower(ctx, open.ID, Watcher, fmt.Sprintf("pipeline run %s ended: %s", open.Run, status))
	return err
}

// adopt records a lease for a workgroup whose max capacity was raised
// outside dpcops (by hand, or by the pipeline's own UpdateWorkgroup), so
// that it is lowered at the latest after max_duration.
func (m *Manager) adopt(ctx context.Context, now time.Time) error {
	if m.o.Capacity == nil {
		return nil
	}
	wg, err := m.o.Capacity.Get(ctx, m.o.Spec.Warehouse.Workgroup)
	if err != nil {
		return err
	}
	if wg.MaxCapacity <= m.cfg.NormalMaxRPU {
		return nil
	}
	// One pipeline may raise: the raise is surely its own (the ASL of
	// dpcops render stepfunctions raises without dpcops), so follow its run.
	pipeline := ""
	if len(m.cfg.Pipelines) == 1 {
		pipeline = m.cfg.Pipelines[0]
	}
	l := Lease{Pipeline: pipeline, RaisedTo: wg.MaxCapacity, Normal: m.cfg.NormalMaxRPU, Started: now,
		Expires: now.Add(m.cfg.MaxDuration.D()), AskedBy: Watcher, Reason: "max capacity found raised outside dpcops"}
	l.Run = m.currentRun(ctx, pipeline)
	if l.ID, err = m.insert(ctx, l); err != nil {
		return err
	}
	m.event(ctx, l.ID, now, "adopted", Watcher, fmt.Sprintf("workgroup at %d RPU above normal %d; lowered by %s at the latest", wg.MaxCapacity, m.cfg.NormalMaxRPU, l.Expires.Format(time.RFC3339)))
	m.openWindow(ctx, l.ID, now, l.Expires)
	m.log.Warn("capacity raised outside dpcops: lease adopted", "lease", l.ID, "max_rpu", wg.MaxCapacity, "until", l.Expires)
	return nil
}

// Problem is 1 while the open lease outlives its end (by more than a
// check's slack) or its last lower failed, else 0: the value of the
// capacity_lease source, which an alarm watches.
func (m *Manager) Problem(ctx context.Context) (float64, error) {
	open, err := m.Open(ctx)
	if err != nil || open == nil {
		return 0, err
	}
	limit := open.Expires.Add(overdueGrace)
	if open.LowerError != "" || m.o.Now().After(limit) {
		return 1, nil
	}
	return 0, nil
}

// Run checks every interval until ctx ends, starting at once (so that a
// lease that expired while dpcops was down is lowered at start-up), and
// writes the problem reading of the spec's capacity_lease metrics.
func (m *Manager) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := m.Check(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("capacity lease check", "err", err)
		}
		if err := m.record(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("capacity lease reading", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *Manager) record(ctx context.Context) error {
	v, err := m.Problem(ctx)
	if err != nil {
		return err
	}
	now := m.o.Now().UTC()
	var rs []collect.Reading
	for _, metric := range m.o.Spec.Metrics {
		if metric.Source == "capacity_lease" {
			rs = append(rs, collect.Reading{Time: now, Metric: metric.Name, Dimensions: metric.Dimensions, Value: v, Unit: metric.Unit})
		}
	}
	dps := make([]store.Datapoint, len(rs))
	for i, r := range rs {
		dps[i] = r.Datapoint()
	}
	if err := m.o.Store.InsertDatapoints(ctx, dps); err != nil {
		return err
	}
	if m.o.Publisher != nil {
		collect.Publish(ctx, m.o.Publisher, m.o.Spec, rs, m.log)
	}
	return nil
}

// Open returns the open lease, or nil.
func (m *Manager) Open(ctx context.Context) (*Lease, error) {
	row := m.o.Store.Reader().QueryRowContext(ctx, selectLease+` WHERE closed_at IS NULL ORDER BY started_at DESC LIMIT 1`)
	l, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("capacity lease: %w", err)
	}
	return &l, nil
}

// List returns the leases that overlap [from, to), oldest first.
func (m *Manager) List(ctx context.Context, from, to time.Time) ([]Lease, error) {
	return List(ctx, m.o.Store, from, to)
}

// List returns the leases of a store that overlap [from, to), oldest
// first; it needs no manager (the capacity report reads it).
func List(ctx context.Context, st *store.Store, from, to time.Time) ([]Lease, error) {
	rows, err := st.Reader().QueryContext(ctx, selectLease+` WHERE started_at < ? AND (closed_at IS NULL OR closed_at >= ?) ORDER BY started_at`,
		store.Millis(to), store.Millis(from))
	if err != nil {
		return nil, fmt.Errorf("capacity leases: %w", err)
	}
	defer rows.Close()
	var out []Lease
	for rows.Next() {
		l, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

const selectLease = `SELECT id, pipeline, raised_to, normal, started_at, expires_at, closed_at, close_reason, run, shared, asked_by, reason, lower_error FROM capacity_leases`

type scanner interface{ Scan(...any) error }

func scan(s scanner) (Lease, error) {
	var l Lease
	var started, expires int64
	var closed sql.NullInt64
	err := s.Scan(&l.ID, &l.Pipeline, &l.RaisedTo, &l.Normal, &started, &expires, &closed, &l.CloseReason, &l.Run, &l.Shared, &l.AskedBy, &l.Reason, &l.LowerError)
	l.Started, l.Expires = store.FromMillis(started), store.FromMillis(expires)
	if closed.Valid {
		t := store.FromMillis(closed.Int64)
		l.Closed = &t
	}
	return l, err
}

func (m *Manager) store(ctx context.Context, fn func(*sql.Tx) error) error {
	return m.o.Store.WriteTx(ctx, fn)
}

// errOpenMeanwhile refuses a lease while another is open: it was opened
// after the caller looked.
var errOpenMeanwhile = errors.New("another lease opened meanwhile; ask again")

func (m *Manager) insert(ctx context.Context, l Lease) (int64, error) {
	var id int64
	// One open lease at a time is the database's rule (a unique index),
	// whoever else writes: the writer that comes second is refused.
	err := m.store(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO capacity_leases (pipeline, raised_to, normal, started_at, expires_at, run, asked_by, reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, l.Pipeline, l.RaisedTo, l.Normal, store.Millis(l.Started), store.Millis(l.Expires),
			l.Run, l.AskedBy, l.Reason).Scan(&id)
		if store.UniqueViolation(err) {
			return errOpenMeanwhile
		}
		return err
	})
	return id, err
}

// event records a change of a lease; a failure to record is logged, not
// returned: the change itself happened.
func (m *Manager) event(ctx context.Context, id int64, at time.Time, event, who, detail string) {
	err := m.store(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO capacity_lease_events (lease_id, at, event, who, detail) VALUES (?, ?, ?, ?, ?)`,
			id, store.Millis(at), event, who, detail)
		return err
	})
	if err != nil {
		m.log.Warn("capacity lease event not recorded", "lease", id, "event", event, "err", err)
	}
}

// Event is one recorded change of a lease.
type Event struct {
	At     time.Time `json:"at"`
	Event  string    `json:"event"`
	Who    string    `json:"who"`
	Detail string    `json:"detail"`
}

// Events returns a lease's changes, oldest first.
func (m *Manager) Events(ctx context.Context, id int64) ([]Event, error) {
	return ListEvents(ctx, m.o.Store, id)
}

// ListEvents returns the changes of a lease in a store, oldest first.
func ListEvents(ctx context.Context, st *store.Store, id int64) ([]Event, error) {
	rows, err := st.Reader().QueryContext(ctx, `SELECT at, event, who, detail FROM capacity_lease_events WHERE lease_id = ? ORDER BY at, id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&at, &e.Event, &e.Who, &e.Detail); err != nil {
			return nil, err
		}
		e.At = store.FromMillis(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
