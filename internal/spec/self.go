package spec

// The alarms with which dpcops watches itself, as the example specs (and
// so the built-in one) define them: on by default, routed and tuned like
// any other alarm, and off when a spec leaves them out or sets enabled:
// false. Their metrics' sources are written by dpcops itself.
const (
	AlarmCollectorFailing   = "dpcops-Collector-Failing"
	AlarmDeliveriesFailing  = "dpcops-Deliveries-Failing"
	MetricCollectorFailures = "CollectorFailedCycles"
	MetricDeliveriesFailing = "DeliveriesFailing"
)
