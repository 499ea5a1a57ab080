package render

import (
	"fmt"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// heartbeatMetric is what dpcops publishes with each heartbeat while it is
// well (internal/selfmon): Custom/DPC Heartbeat, dimension Environment.
const heartbeatMetric = "Heartbeat"

// heartbeatAlarm is the CloudWatch form of the dead man's switch: missing
// heartbeats are breaching, so that dpcops' death, its host's or a full
// disk pages through SNS as any alarm does. It needs the metric: nil
// (with a note) unless the spec has notify.heartbeat and collect.publish.
func (r *renderer) heartbeatAlarm() *alarmDef {
	hb := r.s.Notify.Heartbeat
	if hb == nil || !hb.Enabled.On() {
		r.note("notify.heartbeat is not set: the module has no alarm for a dpcops that dies (set it, with collect.publish: true).")
		return nil
	}
	if !r.s.Collect.Publish {
		r.note("collect.publish is false: dpcops does not publish its heartbeat to CloudWatch, so the module has no alarm for a dpcops that dies.")
		return nil
	}
	name := r.s.Platform + "-dpcops-heartbeat"
	// A period of at least the interval, whole minutes; three of the last
	// five periods without a beat page, so that one late beat does not.
	period := max(int64(60), int64((hb.Interval.D()+time.Minute-1)/time.Minute)*60)
	d := &alarmDef{name: name, id: r.alarmIDs.name(name), severity: "critical", topics: r.alarmTopics(),
		description: fmt.Sprintf("dpcops has stopped its heartbeat: it, its host or its store is down (a full disk), or an engine stopped. "+
			"Check /readyz and the log of dpcops serve (%s %s).", r.s.Platform, r.s.Environment),
		comparison: "LessThanThreshold", threshold: 1, period: period, evaluations: 5, datapoints: 3,
		missing: "breaching", stat: "SampleCount", path: "notify.heartbeat",
		top: &series{kind: plainSeries, namespace: spec.DefaultCustomNamespace, metric: heartbeatMetric,
			dims: []dim{{name: "Environment", value: lit(r.s.Environment)}}, specName: heartbeatMetric, published: true}}
	if _, ok := r.s.Alarm(name); ok {
		r.ps.add(d.path, "the heartbeat alarm", "its name %s is taken by a spec alarm", name)
	}
	r.track(*d.top)
	return d
}
