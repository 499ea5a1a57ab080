package collect

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// Collector names in the health table.
const (
	healthWarehouse  = "warehouse"
	healthCloudWatch = "cloudwatch"
	healthPipeline   = "stepfunctions"
	healthLog        = "jsonlog"
)

// cycle is the work of one collection cycle: its inputs, what it derived,
// and what it will store.
type cycle struct {
	c   *Collector
	s   *spec.Spec
	now time.Time
	due []spec.Metric

	snap   *backend.Snapshot
	sqlErr error
	cw     map[string][]aws.Point
	cwErr  error
	// usage is this usage-limit period's compute seconds, read apart:
	// its failure spoils usage_limit_percent only.
	usage    []aws.Point
	usageErr error
	exec     *aws.Execution
	execOK   bool

	states     map[string]store.State
	readings   []Reading
	skipped    []Skip
	collected  []string
	logs       []store.LogLine
	errors     []ErrorEvent
	runs       []store.PipelineRun
	cursors    map[string]backend.EventCursor
	readFrom   map[string]backend.EventCursor
	health     map[string]*store.Health
	busy       []busySample
	counts     []countSample
	own        ownWork
	statements int
	wakeup     bool
}

func newCycle(c *Collector, now time.Time, due []spec.Metric) *cycle {
	return &cycle{
		c: c, s: c.s, now: now, due: due,
		states:  map[string]store.State{},
		cursors: map[string]backend.EventCursor{}, readFrom: map[string]backend.EventCursor{},
		health: map[string]*store.Health{},
		busy:   c.busy, counts: c.counts,
	}
}

func (cy *cycle) serverless() bool { return cy.s.Warehouse.Engine == spec.EngineRedshiftServerless }

// state returns a kept value: this cycle's if it set one, else the last
// stored.
func (cy *cycle) state(key string) (store.State, bool) {
	if v, ok := cy.states[key]; ok {
		return v, true
	}
	v, ok := cy.c.state[key]
	return v, ok
}

func (cy *cycle) setState(key string, v float64, t time.Time) {
	cy.states[key] = store.State{Value: v, Time: t}
}

// healthOf returns the health record of a collector, creating it.
func (cy *cycle) healthOf(name string) *store.Health {
	h, ok := cy.health[name]
	if !ok {
		h = &store.Health{Collector: name, LastRun: cy.now}
		cy.health[name] = h
	}
	return h
}

func (cy *cycle) fail(name string, err error) {
	h := cy.healthOf(name)
	if h.LastError == "" {
		h.LastError = err.Error()
	} else {
		h.LastError += "; " + err.Error()
	}
	h.LastErrorAt = cy.now
}

// gather reads every input the due metrics need.
func (cy *cycle) gather(ctx context.Context) {
	if cy.serverless() {
		cy.readCloudWatch(ctx)
		cy.readStepFunctions(ctx)
	}
	cy.readSQL(ctx)
	cy.readLog()
	if !cy.serverless() {
		cy.samplePostgres()
	}
	for _, h := range cy.health {
		if h.LastError == "" {
			h.LastSuccess = cy.now
		}
	}
}

// readSQL sends the cycle's SQL in one round trip, if there is any to send
// and the wake policy allows it.
func (cy *cycle) readSQL(ctx context.Context) {
	// needed leaves out the per-minute RPU, which alone never wakes a
	// workgroup: an idle minute uses none, which the rows would only
	// confirm.
	want, needed := cy.want()
	rpuOnly := want.RPUMinutes && !needed
	if !needed && !rpuOnly {
		cy.sqlErr = errors.New("no SQL due")
		return
	}
	w := cy.c.o.Warehouse
	if w == nil {
		cy.sqlErr = errors.New("no warehouse connection (warehouse.dsn is empty)")
		return
	}
	if cy.serverless() {
		ok, busy, why := cy.sqlAllowed()
		if ok && !busy && rpuOnly {
			ok, why = false, "workgroup idle: the per-minute RPU is read only while it is busy"
		}
		if !ok {
			cy.sqlErr = errors.New(why)
			return
		}
		cy.wakeup = !busy
		cy.setState(stateLastSQL, float64(cy.now.Unix()), cy.now)
	}
	h := cy.healthOf(healthWarehouse)
	start := time.Now()
	snap, err := w.Snapshot(ctx, want)
	h.Duration = time.Since(start)
	if snap != nil {
		cy.statements = snap.Statements
		h.Statements = int64(snap.Statements)
	}
	if cy.wakeup {
		h.Wakeups = 1
	}
	if err != nil {
		cy.sqlErr = fmt.Errorf("warehouse unreachable: %w", err)
		cy.fail(healthWarehouse, cy.sqlErr)
		return
	}
	cy.snap = snap
	cy.readErrors()
	if want.PipelineRuns && snap.Errors["pipeline_runs"] == nil {
		for _, r := range snap.Runs {
			cy.runs = append(cy.runs, store.PipelineRun{Pipeline: r.Pipeline, ID: strconv.FormatInt(r.ID, 10), Started: r.Started, Finished: r.Finished, Status: r.Status})
		}
	}
	for _, part := range sortedKeys(snap.Errors) {
		cy.fail(healthWarehouse, fmt.Errorf("%s: %s", part, explain(snap.Errors[part])))
	}
	cy.own = ownWork{statements: int64(snap.Statements), failed: serverFailures(snap.Errors)}
}

// serverFailures counts the parts the server refused: each rolled back a
// transaction of dpcops' own. A part that failed in dpcops (rows it could
// not read) committed on the server.
func serverFailures(errs map[string]error) int64 {
	var n int64
	for _, err := range errs {
		var qe *pgwire.QueryError
		if errors.As(err, &qe) {
			n++
		}
	}
	return n
}

// want turns the due metrics into one backend request, and says whether
// anything but the per-minute RPU needs SQL.
func (cy *cycle) want() (backend.Want, bool) {
	var w backend.Want
	needed := false
	if !cy.serverless() {
		// Counters, activity and size are sampled every cycle: deltas,
		// the idle share and usage need every sample, and they are cheap.
		w.Database, w.Activity, needed = true, true, true
	}
	for _, m := range cy.due {
		switch m.Source {
		case "elt_delay":
			if cy.s.Pipeline.Kind == spec.PipelineLedger && cy.s.ELTDelay.Method != spec.DelayMartUpdated {
				w.Pipeline, w.PipelineName, needed = true, cy.s.Pipeline.Name, true
				// The runs too, for the charts' annotations.
				w.PipelineRuns, w.RecentSince = true, cy.now.Add(-runsLookback)
			}
			if cy.s.ELTDelay.Method != spec.DelayPipelineCompletion {
				w.MartQuery, needed = cy.s.ELTDelay.MartQuery, true
			}
		case "load_errors":
			w.LoadErrors, w.LoadErrorsSince, needed = true, cy.watermark(stateLoadErrors, m), true
		case "rpu_minute":
			if cy.serverless() {
				// The last minutes again: a row is written once its
				// minute ends, and a reading stored twice is one.
				w.RPUMinutes, w.RPUSince = true, cy.now.Add(-rpuLookback)
			}
		case "table_skew", "table_unused_percent", "table_unsorted_percent", "table_stats_off":
			w.Tables, needed = true, true
		case spec.SourceSQL:
			if w.Custom == nil {
				w.Custom = map[string]string{}
			}
			w.Custom[m.Name], needed = m.SQL, true
		}
	}
	if needed {
		cy.wantErrors(&w)
	}
	return w, needed
}

// runsLookback is how far back each read of the ledger's runs goes: a
// run that changed since the last read changed within it.
const runsLookback = 24 * time.Hour

// rpuLookback is how far back each read of the per-minute RPU goes.
const rpuLookback = 10 * time.Minute

// watermark is where a window of new rows starts: the end of the last
// one, or one interval back the first time.
func (cy *cycle) watermark(key string, m spec.Metric) time.Time {
	if st, ok := cy.state(key); ok {
		return st.Time
	}
	return cy.now.Add(-m.Interval.D())
}

// sqlNeeded reports whether a metric comes from SQL on this engine.
func (cy *cycle) sqlNeeded(m spec.Metric) bool {
	if !cy.serverless() {
		return true
	}
	switch m.Source {
	case "load_errors", "table_skew", "table_unused_percent", "table_unsorted_percent", "table_stats_off", "rpu_minute", spec.SourceSQL:
		return true
	case "elt_delay":
		return cy.s.Pipeline.Kind == spec.PipelineLedger || cy.s.ELTDelay.Method != spec.DelayPipelineCompletion
	}
	return false
}

// emit records a reading of m at t, counted on the health row of the
// collector it came from.
func (cy *cycle) emit(m spec.Metric, dims spec.Labels, t time.Time, v float64) {
	cy.readings = append(cy.readings, Reading{Time: t, Metric: m.Name, Dimensions: dims, Value: v, Unit: m.Unit})
	from := healthWarehouse
	if cy.serverless() && !cy.sqlNeeded(m) {
		from = healthCloudWatch
		if m.Source == "elt_delay" {
			from = healthPipeline
		}
	}
	cy.healthOf(from).Datapoints++
}

// compute produces the readings of one due metric, or says why it could
// not.
func (cy *cycle) compute(m spec.Metric) {
	var skip string
	if cy.sqlNeeded(m) && cy.snap == nil {
		skip = cy.sqlErr.Error()
	} else if cy.serverless() {
		skip = cy.computeServerless(m)
	} else {
		skip = cy.computePostgres(m)
	}
	if skip != "" {
		cy.skipped = append(cy.skipped, Skip{Metric: m.Name, Reason: skip})
		cy.c.log.Debug("metric skipped", "metric", m.Name, "reason", skip)
		return
	}
	cy.collected = append(cy.collected, m.Name)
}

func (cy *cycle) result() *Result {
	r := &Result{Time: cy.now, Readings: cy.readings, Skipped: sortedSkips(cy.skipped), Statements: cy.statements, Wakeup: cy.wakeup, Errors: cy.errors}
	for _, name := range sortedKeys(cy.health) {
		r.Health = append(r.Health, *cy.health[name])
	}
	return r
}
