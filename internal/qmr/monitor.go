package qmr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// Event is what the notify hook receives: the action and where to send
// it.
type Event struct {
	Action
	// Topics are the rule's topics.
	Topics []string
	// Summary is one line for people.
	Summary string
}

// Options are a Monitor's collaborators.
type Options struct {
	Spec *spec.Spec
	// Store records the actions and makes "once per rule and query" hold
	// across restarts; nil keeps that in memory only.
	Store *store.Store
	// Source lists and cancels queries; nil opens NewWarehouse(Spec).
	Source Source
	// Notify delivers the events of notify rules, and of abort rules that
	// name topics. nil: those events are only logged.
	Notify func(ctx context.Context, e Event) error
	// Busy says whether the warehouse is awake; checks are skipped when it
	// is not, so that a serverless workgroup is never woken (no query runs
	// on an idle one anyway). nil: always check.
	Busy   func(ctx context.Context) (bool, error)
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Interval between checks in Run (default 10s).
	Interval time.Duration
}

// Monitor applies the query monitoring rules.
type Monitor struct {
	o     Options
	log   *slog.Logger
	rules []rule
	owned bool // Source was opened here

	mu   sync.Mutex
	seen map[seenKey]bool // rules met by queries still running
}

// New returns a monitor of the spec's enabled rules.
func New(o Options) (*Monitor, error) {
	if o.Spec == nil {
		return nil, errors.New("query monitoring: no spec")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Interval <= 0 {
		o.Interval = 10 * time.Second
	}
	m := &Monitor{o: o, log: o.Logger, seen: map[seenKey]bool{}}
	for _, r := range o.Spec.QMR {
		if r.Enabled.On() {
			m.rules = append(m.rules, compile(r))
		}
	}
	if o.Source == nil && len(m.rules) > 0 {
		src, err := NewWarehouse(o.Spec)
		if err != nil {
			return nil, err
		}
		m.o.Source, m.owned = src, true
	}
	return m, nil
}

// Close closes the session the monitor opened.
func (m *Monitor) Close() error {
	if c, ok := m.o.Source.(interface{ Close() error }); ok && m.owned {
		return c.Close()
	}
	return nil
}

// Run checks every Interval until ctx ends.
func (m *Monitor) Run(ctx context.Context) {
	if m.Idle() {
		return
	}
	t := time.NewTicker(m.o.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, cancel := context.WithTimeout(ctx, m.o.Interval)
		if _, err := m.Check(cctx, m.o.Now()); err != nil && ctx.Err() == nil {
			m.log.Warn("query monitoring check", "err", err)
		}
		cancel()
	}
}

// Idle reports a monitor without rules: Run returns at once.
func (m *Monitor) Idle() bool { return len(m.rules) == 0 }

// Check lists the running queries once and acts on each rule a query
// breaks for the first time. It returns the actions taken. dpcops' own
// queries are those of the sessions in the pgwire.Sessions ctx carries:
// serve runs all its engines under one such context.
func (m *Monitor) Check(ctx context.Context, now time.Time) ([]Action, error) {
	if len(m.rules) == 0 {
		return nil, nil
	}
	if m.o.Busy != nil {
		if busy, err := m.o.Busy(ctx); err != nil || !busy {
			return nil, err
		}
	}
	// A query is dpcops' own when its session had a query in flight just
	// before or just after the list was read. One that ran only in
	// between is younger than the read, far below any rule's threshold.
	own := pgwire.SessionsFrom(ctx)
	before := own.Busy()
	queries, err := m.o.Source.Running(ctx)
	if err != nil {
		return nil, err
	}
	after := own.Busy()
	for i := range queries {
		queries[i].Own = before[queries[i].PID] || after[queries[i].PID]
	}
	m.forgetEnded(queries)
	var out []Action
	var errs []error
	for _, r := range m.rules {
		for _, q := range queries {
			if !r.breaks(q) || !m.first(r, q) {
				continue
			}
			a, err := m.act(ctx, r, q, now)
			if err != nil {
				// Not recorded: the next check tries again.
				m.forget(r, q)
				errs = append(errs, err)
			}
			if a != nil {
				out = append(out, *a)
			}
		}
	}
	return out, errors.Join(errs...)
}

// forgetEnded drops the memory of queries no longer running.
func (m *Monitor) forgetEnded(queries []Query) {
	running := map[string]bool{}
	for _, q := range queries {
		running[q.Key()] = true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.seen {
		if !running[k.query] {
			delete(m.seen, k)
		}
	}
}

// seenKey is a rule and a query it met.
type seenKey struct{ rule, query string }

// first notes that the rule met the query; false if it had already.
func (m *Monitor) first(r rule, q Query) bool {
	k := seenKey{r.Name, q.Key()}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen[k] {
		return false
	}
	m.seen[k] = true
	return true
}

// forget undoes first, for an action that could not be recorded.
func (m *Monitor) forget(r rule, q Query) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.seen, seenKey{r.Name, q.Key()})
}

// act takes the rule's action on the query and records it.
func (m *Monitor) act(ctx context.Context, r rule, q Query, now time.Time) (*Action, error) {
	a := &Action{Rule: r.Name, Action: r.Action, At: now, Query: q, Metric: r.Metric,
		Value: r.value(q).Seconds(), Threshold: r.Threshold}
	if m.o.Store != nil {
		ok, err := claim(ctx, m.o.Store, a)
		if err != nil || !ok {
			return nil, err
		}
	}
	switch r.Action {
	case "abort":
		m.abort(ctx, a)
		if len(r.Topics) > 0 {
			m.notify(ctx, r, a)
		}
	case "notify":
		a.Outcome = OutcomeNotified
		m.notify(ctx, r, a)
	default:
		a.Outcome = OutcomeLogged
	}
	m.log.Warn("query monitoring rule", "rule", r.Name, "action", r.Action, "outcome", a.Outcome,
		"query_id", q.ID, "pid", q.PID, "user", q.User, "metric", r.Metric, "seconds", a.Value, "threshold", r.Threshold, "error", a.Error)
	if m.o.Store != nil {
		if err := settle(context.WithoutCancel(ctx), m.o.Store, *a); err != nil {
			return a, err
		}
	}
	return a, nil
}

func (m *Monitor) abort(ctx context.Context, a *Action) {
	found, err := m.o.Source.Cancel(ctx, a.Query)
	switch {
	case err != nil:
		a.Outcome, a.Error = OutcomeFailed, "cancel: "+err.Error()
	case !found:
		a.Outcome, a.Error = OutcomeGone, "the query ended before it could be cancelled"
	default:
		a.Outcome = OutcomeCancelled
	}
}

// notify calls the hook. A failed notification fails a notify action; an
// abort keeps its outcome and notes the error.
func (m *Monitor) notify(ctx context.Context, r rule, a *Action) {
	if m.o.Notify == nil {
		return
	}
	e := Event{Action: *a, Topics: r.Topics, Summary: Summary(*a)}
	if err := m.o.Notify(ctx, e); err != nil {
		if a.Action == "notify" {
			a.Outcome = OutcomeFailed
		}
		a.Error = joinErr(a.Error, "notify: "+err.Error())
	}
}

func joinErr(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// Summary is an action in one line.
func Summary(a Action) string {
	who := a.Query.User
	if a.Query.Label != "" {
		who += " (" + a.Query.Label + ")"
	}
	s := fmt.Sprintf("query %d by %s: %s %.0f s > %.0f s (rule %s)", a.Query.ID, who, a.Metric, a.Value, a.Threshold, a.Rule)
	switch a.Outcome {
	case OutcomeCancelled:
		s += ": cancelled"
	case OutcomeGone:
		s += ": it ended before the cancel"
	case OutcomeFailed:
		s += ": " + a.Error
	}
	return s
}
