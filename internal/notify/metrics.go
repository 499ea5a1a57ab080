package notify

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Delivery outcomes, the outcome label of dpcops_notify_deliveries_total.
const (
	OutcomeSent    = "sent"
	OutcomeRetry   = "retry"
	OutcomeFailed  = "failed"
	OutcomeExpired = "expired"
)

// metrics are the worker's Prometheus metrics.
type metrics struct {
	deliveries *prometheus.CounterVec
	resends    *prometheus.CounterVec
	attempt    *prometheus.HistogramVec
	firstDelay prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, db *sql.DB) (*metrics, error) {
	m := &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dpcops_notify_deliveries_total",
			Help: "Delivery attempts by channel and outcome: sent, retry (will be tried again), failed (the receiver refused it for good), expired (older than notify.max_age).",
		}, []string{"channel", "outcome"}),
		resends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dpcops_notify_resends_total",
			Help: "Deliveries sent again because an earlier attempt was claimed and never marked (a crash between send and mark); on receivers without dedup keys each may be a duplicate.",
		}, []string{"channel"}),
		attempt: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dpcops_notify_attempt_seconds",
			Help:    "Duration of one delivery attempt, by channel.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"channel"}),
		firstDelay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "dpcops_notify_first_attempt_delay_seconds",
			Help:    "Time from enqueueing a delivery (the transition's commit) to its first attempt.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.deliveries, m.resends, m.attempt, m.firstDelay, &queueDepth{db: db}} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// queueDepth reports the outbox rows waiting, in flight and failed, read
// from the store at scrape time so that it is right across restarts.
type queueDepth struct{ db *sql.DB }

var queueDepthDesc = prometheus.NewDesc("dpcops_notify_queue_depth",
	"Outbox rows by channel and state: pending (waiting for an attempt), sending (in flight, or claimed before a crash), failed (refused; dpcops notify retry puts one back).",
	[]string{"channel", "state"}, nil)

func (q *queueDepth) Describe(ch chan<- *prometheus.Desc) { ch <- queueDepthDesc }

func (q *queueDepth) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := q.db.QueryContext(ctx, `SELECT channel, state, count(*) FROM outbox
		WHERE state IN ('pending', 'sending', 'failed') GROUP BY channel, state`)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queueDepthDesc, err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var channel, state string
		var n float64
		if err := rows.Scan(&channel, &state, &n); err != nil {
			ch <- prometheus.NewInvalidMetric(queueDepthDesc, err)
			return
		}
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, n, channel, state)
	}
	if err := rows.Err(); err != nil && !errors.Is(err, context.Canceled) {
		ch <- prometheus.NewInvalidMetric(queueDepthDesc, err)
	}
}
