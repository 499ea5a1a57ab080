package collect

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// promMetrics are the collector's own metrics on /metrics.
type promMetrics struct {
	statements prometheus.Counter
	wakeups    prometheus.Counter
	readings   prometheus.Counter
	skipped    *prometheus.CounterVec
	duration   prometheus.Histogram
}

func newPromMetrics(reg prometheus.Registerer) *promMetrics {
	m := &promMetrics{
		statements: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dpcops_collect_sql_statements_total",
			Help: "SQL statements dpcops sent to the warehouse.",
		}),
		wakeups: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dpcops_collect_wakeups_total",
			Help: "Collection cycles whose SQL broke an idle period of a serverless workgroup.",
		}),
		readings: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dpcops_collect_readings_total",
			Help: "Readings collected.",
		}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dpcops_collect_skipped_total",
			Help: "Due metrics a cycle could not read, by metric.",
		}, []string{"metric"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dpcops_collect_cycle_seconds",
			Help:    "Duration of collection cycles.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.statements, m.wakeups, m.readings, m.skipped, m.duration)
	}
	return m
}

func (m *promMetrics) observe(r *Result, d time.Duration) {
	m.statements.Add(float64(r.Statements))
	if r.Wakeup {
		m.wakeups.Inc()
	}
	m.readings.Add(float64(len(r.Readings)))
	for _, s := range r.Skipped {
		m.skipped.WithLabelValues(s.Metric).Inc()
	}
	m.duration.Observe(d.Seconds())
}
