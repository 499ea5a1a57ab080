package notify

import "github.com/prometheus/client_golang/prometheus"

// TestMetrics are the worker's counters, for assertions.
type TestMetrics struct {
	Deliveries *prometheus.CounterVec
	Resends    *prometheus.CounterVec
}

// Metrics exposes the worker's counters to the tests.
func (w *Worker) Metrics() TestMetrics {
	return TestMetrics{Deliveries: w.m.deliveries, Resends: w.m.resends}
}

// SetAfterSend makes f run between each send and its mark: the window a
// crash leaves a row claimed and not marked.
func (w *Worker) SetAfterSend(f func(*Delivery)) { w.afterSend = f }
