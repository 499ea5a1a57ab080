// Package lease keeps the capacity lease: the seed lets the workgroup use
// 32 RPU only while a large dbt run from the pipeline needs it. A lease
// raises the workgroup's max capacity (UpdateWorkgroup), is recorded in
// the store with who asked and why, and is lowered again — on request,
// when its pipeline run ends or fails, when it expires, or when dpcops
// starts and finds it expired. A raise made outside dpcops is adopted, so
// a forgotten one cannot leak cost for days. On PostgreSQL there is no
// capacity to change: leases are recorded only, and say so.
package lease

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// Capacity reads and sets the workgroup's max capacity; *aws.Workgroups
// implements it.
type Capacity interface {
	Get(ctx context.Context, name string) (aws.Workgroup, error)
	SetMaxCapacity(ctx context.Context, name string, rpu int) (aws.Workgroup, error)
}

// Runs tells which pipeline run is in progress and when it ends.
type Runs interface {
	// Current returns the run of the pipeline in progress, "" for none.
	Current(ctx context.Context, pipeline string) (string, error)
	// Ended reports whether the run has ended, and how.
	Ended(ctx context.Context, pipeline, run string) (bool, string, error)
}

// Lease is one capacity lease.
type Lease struct {
	ID          int64      `json:"id"`
	Pipeline    string     `json:"pipeline"`
	RaisedTo    int        `json:"raised_to"`
	Normal      int        `json:"normal"`
	Started     time.Time  `json:"started_at"`
	Expires     time.Time  `json:"expires_at"`
	Closed      *time.Time `json:"closed_at,omitempty"`
	CloseReason string     `json:"close_reason,omitempty"`
	Run         string     `json:"run,omitempty"`
	// Shared is set once another pipeline extended the lease: it then
	// ends on request or at its (later) expiry, not with one run.
	Shared     bool   `json:"shared,omitempty"`
	AskedBy    string `json:"asked_by"`
	Reason     string `json:"reason,omitempty"`
	LowerError string `json:"lower_error,omitempty"`
}

// Open reports whether the lease is still open.
func (l Lease) Open() bool { return l.Closed == nil }

// Options are a Manager's collaborators.
type Options struct {
	Spec  *spec.Spec
	Store *store.Store
	// Capacity changes the workgroup; nil on PostgreSQL.
	Capacity Capacity
	// Runs follows the pipeline's runs; nil: leases end on request or
	// expiry only.
	Runs Runs
	// Publisher, when set and collect.publish is on, also sends the
	// problem reading to CloudWatch.
	Publisher collect.Publisher
	Logger    *slog.Logger
	Now       func() time.Time
}

// Manager raises, lowers and watches leases.
type Manager struct {
	o   Options
	cfg spec.Lease
	log *slog.Logger
}

// ErrNoLease is returned when there is no (open) lease to act on.
var ErrNoLease = errors.New("no open capacity lease")

// ErrRefused wraps a request the spec does not allow: a pipeline not in
// capacity.lease.pipelines, a capacity or a length beyond the limits.
var ErrRefused = errors.New("capacity lease refused")

// New returns a manager; the spec must configure capacity.lease.
func New(o Options) (*Manager, error) {
	if o.Spec.Capacity.Lease == nil {
		return nil, errors.New("capacity.lease is not configured in the spec")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Manager{o: o, cfg: *o.Spec.Capacity.Lease, log: o.Logger}, nil
}

// Request asks for a lease.
type Request struct {
	Pipeline string
	// To is the max capacity wanted (0: batch_max_rpu); For how long (0:
	// max_duration).
	To  int
	For time.Duration
	// Who and Why are recorded with every change.
	Who, Why string
}

// Raise opens a lease, or extends the open one: a second raise never
// stacks. Two pipelines asking at once share one lease; the later end and
// the higher capacity win. It returns the lease and what it did.
func (m *Manager) Raise(ctx context.Context, r Request) (Lease, string, error) {
	if !slices.Contains(m.cfg.Pipelines, r.Pipeline) {
		return Lease{}, "", fmt.Errorf("%w: pipeline %q may not raise capacity (capacity.lease.pipelines: %v)", ErrRefused, r.Pipeline, m.cfg.Pipelines)
	}
	if r.To == 0 {
		r.To = m.cfg.BatchMaxRPU
	}
	if r.To > m.cfg.BatchMaxRPU || r.To <= m.cfg.NormalMaxRPU {
		return Lease{}, "", fmt.Errorf("%w: a lease raises max capacity above normal_max_rpu (%d) up to batch_max_rpu (%d); %d is outside", ErrRefused, m.cfg.NormalMaxRPU, m.cfg.BatchMaxRPU, r.To)
	}
	if r.For == 0 {
		r.For = m.cfg.MaxDuration.D()
	}
	if r.For > m.cfg.MaxDuration.D() {
		return Lease{}, "", fmt.Errorf("%w: a lease lasts at most %s (capacity.lease.max_duration), asked %s", ErrRefused, m.cfg.MaxDuration, spec.Duration(r.For))
	}
	now := m.o.Now().UTC()
	open, err := m.Open(ctx)
	if err != nil {
		return Lease{}, "", err
	}
	target := r.To
	if open != nil {
		target = max(target, open.RaisedTo)
	}
	// The run first, so that the lease is recorded as soon as the
	// workgroup is raised: a watching serve would otherwise adopt it.
	run := m.currentRun(ctx, r.Pipeline)
	did, err := m.apply(ctx, target, false)
	if err != nil {
		if open != nil {
			m.event(ctx, open.ID, now, "raise failed", r.Who, err.Error())
		}
		return Lease{}, "", err
	}
	if open == nil {
		l := Lease{Pipeline: r.Pipeline, RaisedTo: target, Normal: m.cfg.NormalMaxRPU, Started: now,
			Expires: now.Add(r.For), Run: run, AskedBy: r.Who, Reason: r.Why}
		if l.ID, err = m.insert(ctx, l); err != nil {
			return Lease{}, "", err
		}
		m.event(ctx, l.ID, now, "raised", r.Who, fmt.Sprintf("to %d RPU until %s for %s: %s; %s", target, l.Expires.Format(time.RFC3339), r.Pipeline, r.Why, did))
		m.openWindow(ctx, l.ID, now, l.Expires)
		m.log.Info("capacity lease raised", "lease", l.ID, "to", target, "until", l.Expires, "pipeline", r.Pipeline, "who", r.Who)
		return l, did, nil
	}
	l := *open
	l.Expires = laterOf(open.Expires, now.Add(r.For))
	l.RaisedTo = target
	switch {
	case r.Pipeline != open.Pipeline:
		// Two pipelines: the lease must not end with the first one's run.
		l.Shared, l.Run = true, ""
	case run != "" && !l.Shared:
		l.Run = run // the same pipeline's newer run
	}
	if err := m.store(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE capacity_leases SET expires_at = ?, raised_to = ?, run = ?, shared = ? WHERE id = ?`,
			store.Millis(l.Expires), l.RaisedTo, l.Run, boolInt(l.Shared), l.ID)
		return err
	}); err != nil {
		return Lease{}, "", err
	}
	m.event(ctx, l.ID, now, "extended", r.Who, fmt.Sprintf("to %d RPU until %s for %s: %s", l.RaisedTo, l.Expires.Format(time.RFC3339), r.Pipeline, r.Why))
	m.openWindow(ctx, l.ID, now, l.Expires)
	return l, "extended the open lease; " + did, nil
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// apply sets the workgroup's max capacity to rpu unless it is there
// already, as the workgroup says, not as the lease remembers: a hand may
// have changed it meanwhile. Lowering, a capacity already below rpu is
// left alone too (the pipeline's own lower step, or a hand, was first).
// On PostgreSQL it says there is nothing to change.
func (m *Manager) apply(ctx context.Context, rpu int, lowering bool) (string, error) {
	if m.o.Capacity == nil {
		return "PostgreSQL has no capacity to change: the lease is recorded only", nil
	}
	name := m.o.Spec.Warehouse.Workgroup
	wg, err := m.o.Capacity.Get(ctx, name)
	if err != nil {
		return "", err
	}
	if wg.MaxCapacity == rpu || (lowering && wg.MaxCapacity < rpu) {
		return fmt.Sprintf("max capacity already %d RPU", wg.MaxCapacity), nil
	}
	if wg, err = m.o.Capacity.SetMaxCapacity(ctx, name, rpu); err != nil {
		return "", err
	}
	return fmt.Sprintf("workgroup %s max capacity set to %d RPU", name, wg.MaxCapacity), nil
}

func (m *Manager) currentRun(ctx context.Context, pipeline string) string {
	if m.o.Runs == nil {
		return ""
	}
	run, err := m.o.Runs.Current(ctx, pipeline)
	if err != nil {
		m.log.Warn("cannot tell the pipeline's run in progress", "pipeline", pipeline, "err", err)
	}
	return run
}

// Lower lowers the open lease (or the lease id, when not 0) back to
// normal_max_rpu and closes it. A lower that fails leaves the lease open
// with the error recorded; the manager tries again.
func (m *Manager) Lower(ctx context.Context, id int64, who, why string) (Lease, string, error) {
	open, err := m.Open(ctx)
	if err != nil {
		return Lease{}, "", err
	}
	if open == nil || (id != 0 && open.ID != id) {
		return Lease{}, "", ErrNoLease
	}
	now := m.o.Now().UTC()
	did, err := m.apply(ctx, open.Normal, true)
	if err != nil {
		m.store(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE capacity_leases SET lower_error = ? WHERE id = ?`, err.Error(), open.ID)
			return err
		})
		m.event(ctx, open.ID, now, "lower failed", who, err.Error())
		m.log.Error("capacity lease: lower failed", "lease", open.ID, "err", err)
		return *open, "", fmt.Errorf("lower lease %d: %w", open.ID, err)
	}
	l := *open
	l.Closed, l.CloseReason, l.LowerError = &now, why, ""
	if err := m.store(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE capacity_leases SET closed_at = ?, close_reason = ?, lower_error = '' WHERE id = ?`,
			store.Millis(now), why, l.ID)
		return err
	}); err != nil {
		return Lease{}, "", err
	}
	m.event(ctx, l.ID, now, "lowered", who, why+"; "+did)
	m.closeWindow(ctx, l.ID, now)
	m.log.Info("capacity lease lowered", "lease", l.ID, "why", why, "who", who)
	return l, did, nil
}

// boolInt stores a flag as the 0 or 1 of an INTEGER column, as both
// stores read it.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// openWindow holds back capacity.lease.silence while a lease is open,
// from now until it expires and its alarms have evaluated the time after
// (a lease extended opens another window over the longer time).
func (m *Manager) openWindow(ctx context.Context, id int64, now, expires time.Time) {
	alarms := spec.AlarmsMatching(m.o.Spec, m.cfg.Silence...)
	if len(alarms) == 0 || m.o.Store == nil {
		return
	}
	end := expires.Add(notify.Aftermath(m.o.Spec, alarms))
	if _, err := notify.OpenWindow(ctx, m.o.Store, fmt.Sprintf("lease:%d", id), now, end, alarms,
		fmt.Sprintf("capacity lease %d raised", id)); err != nil {
		m.log.Warn("cannot open the lease's maintenance window: its alarms may page", "lease", id, "err", err)
	}
}

// closeWindow ends the lease's window once its alarms have evaluated the
// time after the lower.
func (m *Manager) closeWindow(ctx context.Context, id int64, now time.Time) {
	alarms := spec.AlarmsMatching(m.o.Spec, m.cfg.Silence...)
	if len(alarms) == 0 || m.o.Store == nil {
		return
	}
	if err := notify.EndWindows(ctx, m.o.Store, fmt.Sprintf("lease:%d", id), now.Add(notify.Aftermath(m.o.Spec, alarms))); err != nil {
		m.log.Warn("cannot close the lease's maintenance window early: it ends as planned", "lease", id, "err", err)
	}
}
