package collect

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// AWS is what the collector asks of AWS; *aws.Client implements it.
type AWS interface {
	MetricData(ctx context.Context, queries []aws.MetricQuery, start, end time.Time) (map[string][]aws.Point, error)
	LatestExecution(ctx context.Context, stateMachineARN, status string) (*aws.Execution, error)
	PutMetricData(ctx context.Context, namespace string, data []aws.Datum) error
}

// Options are the collector's collaborators.
type Options struct {
	Spec *spec.Spec
	// Store keeps readings, health and the state between cycles; nil keeps
	// nothing (collect --once without --data).
	Store *store.Store
	// Warehouse runs the SQL; nil when the spec gives no DSN.
	Warehouse backend.Warehouse
	// AWS reads CloudWatch and Step Functions; nil on a local engine.
	AWS AWS
	// Errors writes error events to CloudWatch Logs when collect.publish
	// is on; nil writes none.
	Errors ErrorWriter
	// Publisher marks the CloudWatch form's publisher function. Beside it
	// (collect.publisher: lambda) serve publishes none of the collector's
	// readings and events, which the function publishes already.
	Publisher bool
	// NeverWake sends SQL to a serverless workgroup only while it is busy,
	// never after collect.idle_sql_interval: the publisher keeps no state
	// between invocations to pace idle reads by.
	NeverWake bool
	// OwnStatements counts the statements this process has sent to the
	// warehouse, so that the wake policy does not take dpcops' own queries
	// for someone's work (default: the collector's own connection; serve
	// passes pgwire.Sent, which query monitoring and maintenance add to).
	OwnStatements func() int64
	Logger        *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Registerer receives the collector's own metrics (nil: none).
	Registerer prometheus.Registerer
}

// Collector runs collection cycles. Its methods are safe for concurrent
// use; cycles run one at a time.
type Collector struct {
	o   Options
	s   *spec.Spec
	log *slog.Logger
	now func() time.Time
	m   *promMetrics

	mu      sync.Mutex
	loaded  bool
	state   map[string]store.State
	lastRun map[string]time.Time
	busy    []busySample
	counts  []countSample
	own     ownWork
	// failures counts each collector's consecutive failed cycles.
	failures map[string]int
	// sent samples OwnStatements at the start of each cycle.
	sent []sentSample
	// cursors are where the error-event sources' next reads start.
	cursors map[string]backend.EventCursor
	// lastStored is the Unix nanoseconds of Run's last stored cycle:
	// serve's readiness sees a collector that is stuck.
	lastStored atomic.Int64
}

// LastCycle returns when Run last stored a cycle (zero before its
// first).
func (c *Collector) LastCycle() time.Time {
	if n := c.lastStored.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// ownWork is what dpcops itself did to the warehouse in a cycle, so that
// its own statements are not counted as the platform's queries.
type ownWork struct{ statements, failed int64 }

// New returns a collector.
func New(o Options) *Collector {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OwnStatements == nil {
		o.OwnStatements = func() int64 { return 0 }
		if w := o.Warehouse; w != nil {
			o.OwnStatements = w.Statements
		}
	}
	return &Collector{
		o: o, s: o.Spec, log: o.Logger, now: o.Now,
		m:       newPromMetrics(o.Registerer),
		state:   map[string]store.State{},
		lastRun: map[string]time.Time{},
		cursors: map[string]backend.EventCursor{},
	}
}

// Result is what one cycle did.
type Result struct {
	Time     time.Time
	Readings []Reading
	Skipped  []Skip
	// Statements is the number of SQL statements sent; Wakeup says whether
	// they broke an idle period of a serverless workgroup.
	Statements int
	Wakeup     bool
	Health     []store.Health
	// Self are the readings of dpcops' own health (its collectors'
	// consecutive failures), stored with the cycle but not counted among
	// the platform's readings.
	Self []Reading
	// Errors are the failed queries and rejected load rows first seen in
	// this cycle.
	Errors []ErrorEvent
}

// Cycle runs one collection cycle. With force every metric is due, else
// only those whose interval has passed. Readings are stored when the
// collector has a store; the error is for a cycle that could not be
// stored.
func (c *Collector) Cycle(ctx context.Context, force bool) (*Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.load(ctx); err != nil {
		return nil, err
	}
	cy := newCycle(c, c.now().UTC(), c.due(force))
	c.noteSent(cy.now)
	cy.gather(ctx)
	for _, m := range cy.due {
		cy.compute(m)
	}
	res := cy.result()
	res.Self = c.selfReadings(cy.now, c.observeFailures(res.Health))
	if c.o.Store != nil {
		err := c.o.Store.WriteCycle(ctx, store.CycleWrite{
			Datapoints: append(datapoints(res.Readings), datapoints(res.Self)...),
			States:     cy.states,
			Health:     res.Health,
			Logs:       cy.logs,
			Runs:       cy.runs,
		})
		if err != nil {
			return res, err
		}
	}
	publishErrors := c.o.Errors != nil && c.publishes() && len(res.Errors) > 0
	if publishErrors && c.o.Store == nil {
		// CloudWatch Logs holds the only copy: the events are read again
		// next cycle unless they are there.
		if err := PublishErrors(ctx, c.o.Errors, res.Errors, c.log); err != nil {
			c.log.Warn("publish of error events to CloudWatch Logs failed; they are read again next cycle", "events", len(res.Errors), "err", err)
			cy.rewindCursors()
		}
	}
	c.commit(cy)
	c.publish(ctx, append(res.Readings[:len(res.Readings):len(res.Readings)], res.Self...))
	if publishErrors && c.o.Store != nil {
		// The store has them: CloudWatch's copy is a convenience.
		if err := PublishErrors(ctx, c.o.Errors, res.Errors, c.log); err != nil {
			c.log.Warn("publish of error events to CloudWatch Logs failed", "events", len(res.Errors), "err", err)
		}
	}
	c.m.observe(res, c.now().Sub(cy.now))
	return res, nil
}

// load reads the state kept by earlier runs, once.
func (c *Collector) load(ctx context.Context) error {
	if c.loaded || c.o.Store == nil {
		c.loaded = true
		return nil
	}
	st, err := c.o.Store.States(ctx)
	if err != nil {
		return err
	}
	c.state, c.loaded = st, true
	return nil
}

// due returns the metrics to collect now.
func (c *Collector) due(force bool) []spec.Metric {
	now := c.now()
	var out []spec.Metric
	for _, m := range c.s.Metrics {
		if info, ok := spec.Source(m.Source); ok && info.External {
			// Another part of dpcops writes these readings (the lease
			// manager), or this collector after the cycle (its own
			// failures).
			continue
		}
		last, ok := c.lastRun[m.Name]
		// A little slack, so that a cycle that fires a moment early does
		// not push a metric to the next one.
		if force || !ok || now.Sub(last) >= m.Interval.D()-time.Second {
			out = append(out, m)
		}
	}
	return out
}

// commit keeps what a stored cycle learnt.
func (c *Collector) commit(cy *cycle) {
	for k, v := range cy.states {
		c.state[k] = v
	}
	for _, name := range cy.collected {
		c.lastRun[name] = cy.now
	}
	maps.Copy(c.cursors, cy.cursors)
	c.busy = cy.busy
	c.counts = cy.counts
	c.own = cy.own
}

func datapoints(rs []Reading) []store.Datapoint {
	out := make([]store.Datapoint, len(rs))
	for i, r := range rs {
		out[i] = r.Datapoint()
	}
	return out
}

// publish sends the readings of dpcops-computed metrics to CloudWatch when
// collect.publish is on.
func (c *Collector) publish(ctx context.Context, rs []Reading) {
	if c.o.AWS != nil && c.publishes() {
		Publish(ctx, c.o.AWS, c.s, rs, c.log)
	}
}

// publishes says whether this collector publishes its readings and
// events: with collect.publish, unless the publisher function does.
func (c *Collector) publishes() bool {
	return c.s.Collect.Publish && (c.o.Publisher || c.s.Collect.Publisher != spec.PublisherLambda)
}

// Publisher sends datapoints to CloudWatch; *aws.Client is one.
type Publisher interface {
	PutMetricData(ctx context.Context, namespace string, data []aws.Datum) error
}

// Publish sends readings of the spec's metrics outside AWS's own
// namespace to CloudWatch, by namespace, when collect.publish is on. A
// failure is logged: CloudWatch's copy is a convenience, the store's is
// the record.
func Publish(ctx context.Context, p Publisher, s *spec.Spec, rs []Reading, log *slog.Logger) {
	if !s.Collect.Publish {
		return
	}
	byNS := map[string][]aws.Datum{}
	for _, r := range rs {
		m, ok := s.Metric(r.Metric)
		if !ok || m.Namespace == spec.ServerlessNamespace {
			continue
		}
		byNS[m.Namespace] = append(byNS[m.Namespace], aws.Datum{MetricName: r.Metric, Dimensions: r.Dimensions.Map(), Unit: r.Unit, Time: r.Time, Value: r.Value})
	}
	for ns, data := range byNS {
		if err := p.PutMetricData(ctx, ns, data); err != nil {
			log.Warn("publish to CloudWatch failed", "namespace", ns, "err", err)
		}
	}
}

// Run collects every collect.interval, aligned to the interval, until ctx
// ends.
func (c *Collector) Run(ctx context.Context) {
	every := c.s.Collect.Interval.D()
	storeFailing := false
	for {
		next := c.now().Truncate(every).Add(every)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		// A cycle may take at most its interval: retries of throttled calls
		// and slow queries give up rather than pile up behind each other.
		cctx, cancel := context.WithTimeout(ctx, max(every, 10*time.Second))
		res, err := c.Cycle(cctx, false)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !storeFailing:
			c.log.Error("collection cycles not stored; trying every cycle", "err", err)
		case err == nil && storeFailing:
			c.log.Info("collection cycles stored again")
		case err == nil:
			c.log.Debug("collected", "readings", len(res.Readings), "skipped", len(res.Skipped), "statements", res.Statements)
		}
		storeFailing = err != nil
		if err == nil {
			c.lastStored.Store(time.Now().UnixNano())
		}
	}
}

// Running returns the queries running now, for query monitoring. It sends
// SQL, so on a serverless engine call it only while the workgroup is busy.
func (c *Collector) Running(ctx context.Context) ([]backend.RunningQuery, error) {
	if c.o.Warehouse == nil {
		return nil, errors.New("no warehouse connection (warehouse.dsn is empty)")
	}
	snap, err := c.o.Warehouse.Snapshot(ctx, backend.Want{Activity: true})
	if err != nil {
		return nil, err
	}
	if e := snap.Errors["activity"]; e != nil {
		return nil, e
	}
	return snap.Activity.Running, nil
}

// sentSample is how many statements dpcops had sent by a time.
type sentSample struct {
	t time.Time
	n int64
}

// noteSent samples OwnStatements, keeping the samples the wake policy's
// window needs and one before it.
func (c *Collector) noteSent(now time.Time) {
	c.sent = append(c.sent, sentSample{now, c.o.OwnStatements()})
	cut := now.Add(-busyLookback - 3*time.Minute)
	i := 0
	for i < len(c.sent)-1 && c.sent[i+1].t.Before(cut) {
		i++
	}
	c.sent = c.sent[i:]
}

// ownSince is how many statements dpcops has sent since about t: from the
// newest sample at or before t (so a little more, never less, once the
// samples reach back that far).
func (c *Collector) ownSince(t time.Time) int64 {
	if len(c.sent) == 0 {
		return 0
	}
	base := c.sent[0].n
	for _, s := range c.sent {
		if !s.t.After(t) {
			base = s.n
		}
	}
	return c.o.OwnStatements() - base
}

// sortedSkips orders skips by metric for stable output.
func sortedSkips(s []Skip) []Skip {
	sort.SliceStable(s, func(i, j int) bool { return s[i].Metric < s[j].Metric })
	return s
}
