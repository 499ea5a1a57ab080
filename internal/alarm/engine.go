package alarm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// DefaultDelay is the evaluation delay when Options.Delay is zero: one
// default collection interval, so that the datapoint a collector takes at
// the end of a period is stored before the period is evaluated.
const DefaultDelay = time.Minute

// retryDelay is how soon Run tries again after a failed evaluation.
const retryDelay = 10 * time.Second

// storeTimeout bounds each store call of an evaluation.
const storeTimeout = 10 * time.Second

// Clock tells the time and waits. Tests pass a fake one; nil in Options
// means the system clock.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the clock of the machine.
var SystemClock Clock = systemClock{}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Options configure an Engine.
type Options struct {
	Spec   *spec.Spec
	Store  *store.Store
	Logger *slog.Logger
	// Clock defaults to the system clock.
	Clock Clock
	// Delay is how long after a period ends the engine evaluates it, so
	// that late datapoints count. Zero means DefaultDelay; a negative
	// value means no delay.
	Delay time.Duration
	// OnTransition is called for each transition inside the store
	// transaction that writes the new alarm_state row and the
	// alarm_history row (t.ID): what it writes through tx commits with the
	// transition or not at all. An error rolls the whole transition back;
	// the alarm keeps its state and the transition is computed again at
	// the next evaluation.
	OnTransition func(ctx context.Context, tx *sql.Tx, t Transition) error
	// Hooks are called after OnTransition, in order, inside the same
	// transaction, each named in its error: what a transition owes
	// (notifications, the incident record) registered with the engine, as
	// Prometheus hands its rules manager a notify function.
	Hooks []Hook
}

// Hook is one consumer of transitions: it runs inside the transaction
// that records the transition, and an error rolls the transition back.
type Hook struct {
	Name string
	Fn   func(ctx context.Context, tx *sql.Tx, t Transition) error
}

// Engine evaluates the spec's enabled alarms at their period boundaries
// from the store's datapoints and persists their states.
type Engine struct {
	o      Options
	log    *slog.Logger
	clock  Clock
	delay  time.Duration
	alarms []*compiled

	// mu serialises evaluation rounds and guards states.
	mu     sync.Mutex
	states map[string]memState // nil until loaded from the store
	stale  bool                // states must be reloaded after this round

	healthMu sync.Mutex
	health   map[string]string // the last evaluation error per alarm

	// lastRound is the Unix nanoseconds of Run's last round without
	// error: serve's readiness sees an engine that is stuck.
	lastRound atomic.Int64
}

// LastRound returns when Run last evaluated without error (zero before
// its first round).
func (e *Engine) LastRound() time.Time {
	if n := e.lastRound.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// Cadence is the longest Run waits between rounds: the shortest alarm
// period, plus the delay.
func (e *Engine) Cadence() time.Duration {
	shortest := 24 * time.Hour
	for _, c := range e.alarms {
		shortest = min(shortest, c.period)
	}
	return shortest + e.delay
}

// memState is what the engine remembers of an alarm between rounds; the
// store's alarm_state row is its durable copy.
type memState struct {
	state       State
	episode     episodes
	evaluatedAt int64 // Unix ms: end of the last period evaluated
}

// New prepares an engine. It fails if an enabled alarm cannot be
// evaluated, which a validated spec rules out except for expressions
// such as DIFF(5).
func New(o Options) (*Engine, error) {
	if o.Spec == nil || o.Store == nil {
		return nil, errors.New("alarm engine: spec and store are required")
	}
	e := &Engine{o: o, log: o.Logger, clock: o.Clock, delay: o.Delay, health: map[string]string{}}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.clock == nil {
		e.clock = systemClock{}
	}
	switch {
	case e.delay == 0:
		e.delay = DefaultDelay
	case e.delay < 0:
		e.delay = 0
	}
	var err error
	e.alarms, err = compileAll(o.Spec, func(a *spec.Alarm) bool { return a.Enabled.On() })
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Run evaluates the alarms at each of their period boundaries plus the
// delay until ctx ends, then returns nil. A failed evaluation is logged,
// kept as the alarm's last error and tried again soon.
func (e *Engine) Run(ctx context.Context) error {
	e.log.Info("alarm engine started", "alarms", len(e.alarms), "delay", e.delay)
	failing := false
	for {
		now := e.clock.Now()
		_, err := e.EvaluateOnce(ctx, now)
		if ctx.Err() != nil {
			return nil
		}
		// Said once when evaluations start failing and once when they
		// work again: the alarms' own health keeps the detail.
		switch {
		case err != nil && !failing:
			e.log.Error("alarm evaluation failing", "err", err)
		case err == nil && failing:
			e.log.Info("alarm evaluation works again")
		}
		failing = err != nil
		if err == nil {
			e.lastRound.Store(time.Now().UnixNano())
		}
		wait := e.nextWait(now)
		if err != nil {
			wait = min(wait, retryDelay)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-e.clock.After(wait):
		}
	}
}

// nextWait is the time from now to the next boundary of any alarm, plus
// the delay. It is always positive, whatever the clock did.
func (e *Engine) nextWait(now time.Time) time.Duration {
	wait := 24 * time.Hour
	for _, c := range e.alarms {
		next := e.due(c, now).Add(c.period + e.delay)
		wait = min(wait, next.Sub(now))
	}
	return wait
}

// due is the newest period end an evaluation at now may read: periods are
// aligned to the Unix epoch, as CloudWatch aligns them, and end delay
// before now.
func (e *Engine) due(c *compiled, now time.Time) time.Time {
	p := int64(c.period)
	return time.Unix(0, floorDiv(now.Add(-e.delay).UnixNano(), p)*p).UTC()
}

// EvaluateOnce evaluates every enabled alarm whose newest due period it
// has not evaluated yet, persists the results and returns the transitions
// it committed. An alarm whose due period is not newer than the last one
// it evaluated is skipped: after the clock jumps backwards the engine
// waits until time passes the last evaluated period again, so that no
// period is evaluated twice and no transition is dated before an earlier
// one. Periods missed while dpcops was down are not replayed: the engine
// evaluates the newest due period, as CloudWatch evaluates the present.
// Errors of single alarms are joined; the other alarms are still
// evaluated.
func (e *Engine) EvaluateOnce(ctx context.Context, now time.Time) ([]Transition, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.load(ctx); err != nil {
		return nil, err
	}
	var out []Transition
	var quiet []evaluated
	var errs []error
	for _, c := range e.alarms {
		if ctx.Err() != nil {
			// Shutting down: the rest waits for the next start.
			break
		}
		t := e.due(c, now)
		st := e.states[c.name]
		if store.Millis(t) <= st.evaluatedAt {
			continue
		}
		tr, err := e.evaluate(ctx, c, st, t)
		if err == nil && tr != nil {
			err = e.commit(ctx, tr)
		}
		e.setHealth(c.name, err)
		switch {
		case err != nil:
			e.log.Warn("alarm evaluation failed", "alarm", c.name, "at", t, "err", err)
			errs = append(errs, fmt.Errorf("alarm %s: %w", c.name, err))
		case tr == nil:
			quiet = append(quiet, evaluated{c.name, store.Millis(t)})
		default:
			e.log.Info("alarm state changed", "alarm", c.name, "from", tr.From, "to", tr.To, "at", tr.Time, "episode", tr.Episode, "reason", tr.Reason)
			out = append(out, *tr)
		}
	}
	if err := e.markEvaluated(ctx, quiet); err != nil {
		errs = append(errs, err)
	}
	if e.stale {
		e.states, e.stale = nil, false
	}
	return out, errors.Join(errs...)
}

// evaluate reads the alarm's datapoints for the range that ends at t and
// returns the transition they call for, nil if the state stays.
func (e *Engine) evaluate(ctx context.Context, c *compiled, st memState, t time.Time) (*Transition, error) {
	span := c.span()
	start := t.Add(-time.Duration(span) * c.period)
	in := make([][]float64, len(c.inputs))
	var scratch []float64
	for i, inp := range c.inputs {
		se, err := e.points(ctx, inp, start, t)
		if err != nil {
			return nil, err
		}
		in[i] = make([]float64, span)
		aggregate(se, start.UnixMilli(), c.period.Milliseconds(), c.stat, in[i], &scratch)
	}
	vals, err := c.values(in, span)
	if err != nil {
		return nil, err
	}
	window := vals[span-c.rule.RangeLen():]
	d := c.rule.Decide(window, st.state)
	if d.State == st.state {
		return nil, nil
	}
	reason, data := c.explain(t, window, d, st.state, true)
	return &Transition{Alarm: c.name, Time: t, From: st.state, To: d.State, Reason: reason, ReasonData: data,
		Episode: st.episode.next(d.State).n}, nil
}

func (e *Engine) points(ctx context.Context, inp Input, from, to time.Time) (series, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	pts, err := e.o.Store.Points(ctx, inp.Metric, inp.Dims, from, to)
	if err != nil {
		return series{}, err
	}
	se := series{ts: make([]int64, len(pts)), vs: make([]float64, len(pts))}
	for i, p := range pts {
		se.ts[i], se.vs[i] = p.Time.UnixMilli(), p.Value
	}
	return se, nil
}

func (e *Engine) setHealth(alarm string, err error) {
	e.healthMu.Lock()
	defer e.healthMu.Unlock()
	if err == nil {
		delete(e.health, alarm)
		return
	}
	e.health[alarm] = err.Error()
}

func (e *Engine) lastError(alarm string) string {
	e.healthMu.Lock()
	defer e.healthMu.Unlock()
	return e.health[alarm]
}
