package collect

import (
	"fmt"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// busySample says whether the warehouse did anything since the previous
// sample.
type busySample struct {
	t    time.Time
	busy bool
}

// countSample is the queries that finished since the previous sample.
type countSample struct {
	t                 time.Time
	succeeded, failed float64
}

// keep bounds the in-memory samples: the longest window a metric may ask
// for is a day.
const keep = 25 * time.Hour

// samplePostgres turns this cycle's counters and activity into samples:
// the query counts since the last cycle (without dpcops' own statements),
// whether the warehouse was busy, and the compute used towards the usage
// limit.
func (cy *cycle) samplePostgres() {
	if cy.snap == nil {
		return
	}
	d, a := cy.snap.Database, cy.snap.Activity
	if d != nil {
		if succ, fail, ok := cy.deltas(d); ok {
			cy.counts = trim(append(cy.counts, countSample{cy.now, succ, fail}), cy.now, func(s countSample) time.Time { return s.t })
			if a != nil {
				busy := a.Active > 0 || succ+fail > 0
				cy.busy = trim(append(cy.busy, busySample{cy.now, busy}), cy.now, func(s busySample) time.Time { return s.t })
			}
		}
	}
	if a != nil {
		cy.accumulateUsage(float64(a.Active))
	}
}

func trim[T any](s []T, now time.Time, at func(T) time.Time) []T {
	i := 0
	for i < len(s) && now.Sub(at(s[i])) > keep {
		i++
	}
	return s[i:]
}

// deltas returns the transactions committed and rolled back since the
// previous cycle, less dpcops' own. A counter that went backwards was
// reset (a stats reset or a restart): the new value is the delta.
func (cy *cycle) deltas(d *backend.Database) (succ, fail float64, ok bool) {
	prevC, okC := cy.state(stateCommits)
	prevR, okR := cy.state(stateRollbacks)
	cy.setState(stateCommits, float64(d.Commits), cy.now)
	cy.setState(stateRollbacks, float64(d.Rollbacks), cy.now)
	if !okC || !okR {
		return 0, 0, false
	}
	dc := float64(d.Commits) - prevC.Value
	if dc < 0 {
		dc = float64(d.Commits)
	}
	dr := float64(d.Rollbacks) - prevR.Value
	if dr < 0 {
		dr = float64(d.Rollbacks)
	}
	own := cy.c.own
	return max(0, dc-float64(own.statements-own.failed)), max(0, dr-float64(own.failed)), true
}

// accumulateUsage adds the compute used since the last sample to the usage
// period's total: active backends stand for RPU. A gap longer than two
// intervals (dpcops was down) counts as two intervals, not as the whole
// gap at the last value.
func (cy *cycle) accumulateUsage(active float64) {
	start := periodStart(cy.s, cy.now)
	prev, ok := cy.state(stateUsage)
	total := 0.0
	if ok && !prev.Time.Before(start) {
		dt := min(cy.now.Sub(prev.Time), 2*cy.s.Collect.Interval.D())
		total = prev.Value + active*dt.Hours()
	}
	cy.setState(stateUsage, total, cy.now)
}

// computePostgres produces a metric's readings on the postgres engine.
func (cy *cycle) computePostgres(m spec.Metric) string {
	s := cy.snap
	switch m.Source {
	case "elt_delay":
		return cy.eltDelay(m)
	case "load_errors":
		return cy.loadErrors(m)
	case spec.SourceSQL:
		return cy.custom(m)
	case "table_unused_percent":
		return cy.perTable(m, func(t backend.Table) (float64, bool) { return t.UnusedPercent, true })
	case "table_stats_off":
		return cy.perTable(m, func(t backend.Table) (float64, bool) { return t.StatsOff, t.ModifiedSinceAnalyze >= 0 })
	}
	switch m.Source {
	case "queries_running", "compute_capacity", "rpu_minute":
		if s.Activity == nil {
			return cy.partErr("activity")
		}
		cy.emit(m, m.Dimensions, s.At, float64(s.Activity.Active))
	case "data_storage", "storage_percent", "database_connections":
		if s.Database == nil {
			return cy.partErr("database")
		}
		cy.emit(m, m.Dimensions, s.At, databaseValue(cy.s, m.Source, s.Database))
	case "queries_succeeded", "queries_failed":
		if len(cy.counts) == 0 || !cy.counts[len(cy.counts)-1].t.Equal(cy.now) {
			return "first reading of the transaction counters: the next cycle reports the change"
		}
		last := cy.counts[len(cy.counts)-1]
		v := last.succeeded
		if m.Source == "queries_failed" {
			v = last.failed
		}
		cy.emit(m, m.Dimensions, cy.now, v)
	case "query_failure_rate":
		return cy.failureRate(m)
	case "idle_percent":
		return cy.idlePercent(m)
	case "usage_limit_percent":
		st, ok := cy.state(stateUsage)
		if !ok {
			return "no usage sampled yet"
		}
		cy.emit(m, m.Dimensions, cy.now, 100*st.Value/cy.s.Capacity.UsageLimit.RPUHours)
	default:
		return fmt.Sprintf("source %s is not available on engine postgres", m.Source)
	}
	return ""
}

func databaseValue(s *spec.Spec, source string, d *backend.Database) float64 {
	mb := float64(d.SizeBytes) / (1 << 20)
	switch source {
	case "storage_percent":
		return 100 * mb / (s.Capacity.StorageQuotaGB * 1024)
	case "database_connections":
		return float64(d.Connections)
	}
	return mb
}

// failureRate is failed ÷ (failed + succeeded) over the metric's window.
func (cy *cycle) failureRate(m spec.Metric) string {
	var succ, fail float64
	for _, s := range cy.counts {
		if cy.now.Sub(s.t) < m.Window.D() {
			succ += s.succeeded
			fail += s.failed
		}
	}
	if succ+fail == 0 {
		return "no queries finished in the window"
	}
	cy.emit(m, m.Dimensions, cy.now, 100*fail/(succ+fail))
	return ""
}

// idlePercent is the share of samples in the metric's interval in which the
// warehouse did nothing.
func (cy *cycle) idlePercent(m spec.Metric) string {
	window := m.Interval.D()
	if m.Window > 0 {
		window = m.Window.D()
	}
	var n, idle int
	for _, s := range cy.busy {
		if cy.now.Sub(s.t) < window {
			n++
			if !s.busy {
				idle++
			}
		}
	}
	if n == 0 {
		return "no activity samples yet"
	}
	cy.emit(m, m.Dimensions, cy.now, 100*float64(idle)/float64(n))
	return ""
}
