package collect

import (
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// observeFailures counts each collector's consecutive failed cycles and
// returns the most of any. A collector that starts failing is said once,
// at WARN, with its error; one that recovers is said once too. In between
// the count goes to the self_collector_failures readings every cycle, so
// that a built-in alarm pages when dpcops goes blind, while the log stays
// quiet. The caller holds c.mu.
func (c *Collector) observeFailures(health []store.Health) int {
	if c.failures == nil {
		c.failures = map[string]int{}
	}
	most := 0
	for _, h := range health {
		n := c.failures[h.Collector]
		switch {
		case h.LastError != "" && n == 0:
			c.log.Warn("collector failing: dpcops cannot see what it reads", "collector", h.Collector, "err", h.LastError)
			n = 1
		case h.LastError != "":
			n++
		case n > 0:
			c.log.Info("collector recovered", "collector", h.Collector, "failed_cycles", n)
			n = 0
		}
		c.failures[h.Collector] = n
		most = max(most, n)
	}
	// A collector absent from this cycle (not due) keeps its count.
	for _, n := range c.failures {
		most = max(most, n)
	}
	return most
}

// selfReadings are the readings of the spec's self_collector_failures
// metrics: the most consecutive failed cycles of any collector.
func (c *Collector) selfReadings(at time.Time, most int) []Reading {
	var out []Reading
	for _, m := range c.s.Metrics {
		if m.Source == spec.SourceCollectorFailures {
			out = append(out, Reading{Time: at, Metric: m.Name, Dimensions: m.Dimensions, Value: float64(most), Unit: m.Unit})
		}
	}
	return out
}
