package render

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/dpc-learning/dpcops/internal/metricmath"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// alarmDef is one CloudWatch alarm the module creates: a spec alarm, or
// the usage limit alarm the module adds when no spec alarm watches the
// usage limit.
type alarmDef struct {
	name, id    string
	description string
	severity    string
	topics      []string
	comparison  string
	threshold   float64
	period      int64
	evaluations int
	datapoints  int
	missing     string
	// top is the one metric of a plain alarm; queries are the
	// metric_query blocks of any other.
	top     *series
	stat    string
	queries []mquery
	// alarmActions and okActions are filled in by the notification plan.
	alarmActions, okActions []str
	// path locates the alarm in the spec for problems.
	path string
}

func (a *alarmDef) ref() string { return "aws_cloudwatch_metric_alarm." + a.id }

// planAlarms builds every enabled spec alarm, and the usage limit alarm.
func (r *renderer) planAlarms() {
	usageWatched := false
	for i := range r.s.Alarms {
		a := &r.s.Alarms[i]
		if !a.Enabled.On() {
			r.note("alarm %s is off (%s): not rendered.", a.Name, a.Enabled.Reason())
			continue
		}
		if d, ok := r.planAlarm(a, fmt.Sprintf("alarms[%d]", i)); ok {
			r.alarms = append(r.alarms, d)
		}
		for _, act := range a.Actions {
			r.note("alarm %s runs %s on ALARM in dpcops; the CloudWatch alarm only notifies.", a.Name, act)
		}
		if a.RepeatInterval > 0 {
			r.note("alarm %s repeats its notification every %s in dpcops; CloudWatch notifies on state changes only.", a.Name, a.RepeatInterval)
		}
		if m, ok := r.s.Metric(a.Metric); ok && (m.Source == "usage_limit_percent" || m.Source == "usage_limit_consumed") {
			usageWatched = true
		}
	}
	if u := r.s.Capacity.UsageLimit; u != nil && !usageWatched {
		r.alarms = append(r.alarms, r.usageAlarm(u))
	}
	if d := r.heartbeatAlarm(); d != nil {
		r.alarms = append(r.alarms, d)
	}
}

func (r *renderer) planAlarm(a *spec.Alarm, path string) (*alarmDef, bool) {
	item := "alarm " + quoteOdd(a.Name)
	before := len(r.ps.list)
	d := &alarmDef{name: a.Name, id: r.alarmIDs.name(a.Name), description: a.Description, severity: a.Severity,
		topics: a.Topics, comparison: a.Comparison, threshold: *a.Threshold, period: a.Period.Seconds(),
		evaluations: a.EvaluationPeriods, datapoints: a.DatapointsToAlarm, missing: a.TreatMissingData,
		stat: a.Statistic, path: path}
	r.checkAlarmLimits(d, item)
	if _, ok := statistic(a.Statistic); !ok {
		r.ps.add(path+".statistic", item, "CloudWatch takes percentiles as pNN or pNN.NN (up to 10 decimals), not %q", a.Statistic)
	}
	b := &queryBuilder{r: r, stat: a.Statistic, period: d.period}
	if a.Metric != "" {
		r.planMetricAlarm(a, d, b, path, item)
	} else {
		r.planExpressionAlarm(a, d, b, path, item)
	}
	if b.insights > 0 && d.period*int64(d.evaluations+1) > insightsLookback {
		r.ps.add(path+".period", item, "it reads a Metrics Insights query, which alarms evaluate over the last 3 hours only; period × (evaluation_periods + 1) is %ds", d.period*int64(d.evaluations+1))
	}
	if b.insights > 0 && d.period < 60 {
		r.ps.add(path+".period", item, "it reads a Metrics Insights query, which has no periods under 60s")
	}
	if n := b.metrics + b.insights; n > maxAlarmMetrics {
		r.ps.add(path, item, "it needs %d metrics (metrics AWS publishes only per QueryType count once per query type); a CloudWatch math alarm takes at most %d", n, maxAlarmMetrics)
	}
	d.queries = b.queries
	return d, len(r.ps.list) == before
}

func (r *renderer) planMetricAlarm(a *spec.Alarm, d *alarmDef, b *queryBuilder, path, item string) {
	m, _ := r.s.Metric(a.Metric)
	se, ok := r.resolve(m, a.Dimensions, path+".metric", item)
	if !ok {
		return
	}
	r.track(se)
	if se.kind == plainSeries {
		d.top = &se
		return
	}
	if err := checkQueryValues(se); err != nil {
		r.ps.add(path, item, "%v", err)
		return
	}
	id, err := b.add(se)
	if err != nil {
		r.ps.add(path, item, "%v", err)
		return
	}
	b.returning(id)
}

func (r *renderer) planExpressionAlarm(a *spec.Alarm, d *alarmDef, b *queryBuilder, path, item string) {
	n, err := metricmath.Parse(a.Expression)
	if err != nil {
		r.ps.add(path+".expression", item, "expression %q: %v", a.Expression, err)
		return
	}
	ids := map[string]string{}
	for _, name := range metricmath.Refs(n) {
		m, ok := r.s.Metric(name)
		if !ok {
			r.ps.add(path+".expression", item, "expression names %q, which is not a spec metric", name)
			return
		}
		se, ok := r.resolve(m, a.Dimensions, path+".expression", item)
		if !ok {
			return
		}
		if err := checkQueryValues(se); se.kind != plainSeries && err != nil {
			r.ps.add(path, item, "%v", err)
			return
		}
		r.track(se)
		if ids[name], err = b.add(se); err != nil {
			r.ps.add(path+".expression", item, "%v", err)
			return
		}
	}
	b.expression(n, ids, a.Expression)
}

// track remembers the metrics only dpcops publishes, for the README.
func (r *renderer) track(se series) {
	if se.published && !slices.Contains(r.published, se.specName) {
		r.published = append(r.published, se.specName)
	}
}

func (r *renderer) checkAlarmLimits(d *alarmDef, item string) {
	if len(d.name) > maxAlarmName {
		r.ps.add(d.path+".name", item, "the name is %d bytes; CloudWatch alarm names take at most %d", len(d.name), maxAlarmName)
	}
	if hasControl(d.name) {
		r.ps.add(d.path+".name", item, "the name holds a control character, which CloudWatch alarm names cannot")
	}
	if len(d.description) > maxDescription {
		r.ps.add(d.path+".description", item, "the description is %d bytes; CloudWatch takes at most %d", len(d.description), maxDescription)
	}
}

// usageAlarm watches the usage limit at notify_at_percent: the seed's
// "notice at 80 %", which a usage limit cannot raise by itself.
func (r *renderer) usageAlarm(u *spec.UsageLimit) *alarmDef {
	name := r.s.Platform + "-usage-limit"
	d := &alarmDef{name: name, id: r.alarmIDs.name(name), severity: "warning", topics: r.alarmTopics(),
		description: fmt.Sprintf("Compute this %s has reached %s %% of the usage limit (%s RPU-hours).", periodNoun(u.Period), fmtNum(u.NotifyAtPercent), fmtNum(u.RPUHours)),
		comparison:  "GreaterThanOrEqualToThreshold", threshold: u.NotifyAtPercent, period: 3600, evaluations: 1, datapoints: 1,
		missing: "notBreaching", stat: "Maximum", path: "capacity.usage_limit"}
	if _, ok := r.s.Alarm(name); ok {
		r.ps.add(d.path, "the usage limit alarm", "its name %s is taken by a spec alarm", name)
	}
	b := &queryBuilder{r: r, stat: d.stat, period: d.period}
	id, _ := b.add(series{kind: usageSeries, namespace: spec.ServerlessNamespace, metric: "UsageLimitConsumed", specName: "UsageLimitConsumed", percent: true})
	b.returning(id)
	d.queries = b.queries
	return d
}

// alarmTopics lists the topics any enabled spec alarm notifies.
func (r *renderer) alarmTopics() []string {
	var out []string
	for _, t := range r.s.Topics {
		for _, a := range r.s.Alarms {
			if a.Enabled.On() && slices.Contains(a.Topics, t.Name) {
				out = append(out, t.Name)
				break
			}
		}
	}
	return out
}

func periodNoun(p string) string {
	switch p {
	case "daily":
		return "day"
	case "weekly":
		return "week"
	}
	return "month"
}

// writeAlarms writes alarms.tf.
func (r *renderer) writeAlarms(body *hclwrite.Body) {
	for i, a := range r.alarms {
		if i > 0 {
			body.AppendNewline()
		}
		b := body.AppendNewBlock("resource", []string{"aws_cloudwatch_metric_alarm", a.id}).Body()
		set(b, "alarm_name", lit(a.name))
		if a.description != "" {
			set(b, "alarm_description", lit(a.description))
		}
		set(b, "comparison_operator", lit(a.comparison))
		set(b, "threshold", num(a.threshold))
		set(b, "evaluation_periods", num(a.evaluations))
		set(b, "datapoints_to_alarm", num(a.datapoints))
		set(b, "treat_missing_data", lit(a.missing))
		if a.top != nil {
			writeTopMetric(b, a)
		}
		if r.inhibited(a) == nil {
			set(b, "alarm_actions", strList(a.alarmActions))
			set(b, "ok_actions", strList(a.okActions))
		}
		set(b, "tags", obj{{"Severity", lit(a.severity)}, {"ManagedBy", lit("dpcops")}})
		for _, q := range a.queries {
			writeQuery(b, q)
		}
		if r.inhibited(a) == nil && r.windowed(a) {
			ignoreActionsEnabled(b)
		}
	}
	r.writeInhibitions(body)
}

func writeTopMetric(b *hclwrite.Body, a *alarmDef) {
	set(b, "namespace", lit(a.top.namespace))
	set(b, "metric_name", lit(a.top.metric))
	set(b, "dimensions", dimsObj(a.top.dims))
	attr, _ := statistic(a.stat)
	set(b, attr, lit(a.stat))
	set(b, "period", num(a.period))
}

func writeQuery(body *hclwrite.Body, q mquery) {
	b := body.AppendNewBlock("metric_query", nil).Body()
	set(b, "id", lit(q.id))
	if q.metric == nil {
		set(b, "expression", q.expression)
		if q.period > 0 {
			set(b, "period", num(q.period))
		}
	}
	if q.label != "" {
		set(b, "label", lit(q.label))
	}
	set(b, "return_data", boolean(q.returnData))
	if q.metric != nil {
		m := b.AppendNewBlock("metric", nil).Body()
		set(m, "namespace", lit(q.metric.namespace))
		set(m, "metric_name", lit(q.metric.metric))
		set(m, "dimensions", dimsObj(q.metric.dims))
		set(m, "stat", lit(q.stat))
		set(m, "period", num(q.period))
	}
}

func strList(ss []str) list {
	out := make(list, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// set writes an attribute.
func set(b *hclwrite.Body, name string, v val) {
	b.SetAttributeRaw(name, v.hcl())
}
