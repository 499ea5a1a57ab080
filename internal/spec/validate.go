package spec

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/metricmath"
)

// checker validates a decoded, defaulted spec.
type checker struct {
	s        *Spec
	src      *source
	readFile func(string) ([]byte, error)
	diags    Diagnostics
	// unset holds the paths whose value used an unset variable; that
	// error was reported already.
	unset map[string]bool
}

func (c *checker) errorf(path, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{Pos: c.src.at(path), Severity: Error, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) warnf(path, format string, args ...any) {
	c.diags = append(c.diags, Diagnostic{Pos: c.src.at(path), Severity: Warning, Message: fmt.Sprintf(format, args...)})
}

// enum reports a value outside its list of known names.
func (c *checker) enum(path, what, v string, known []string) bool {
	if slices.Contains(known, v) {
		return true
	}
	if v == "" {
		c.errorf(path, "%s is required (one of %s)", what, oneOf(known))
		return false
	}
	c.errorf(path, "unknown %s %q (known: %s)%s", what, v, oneOf(known), suggest(v, known))
	return false
}

func (c *checker) required(path, what, v string) bool {
	if strings.TrimSpace(v) == "" {
		c.errorf(path, "%s is required", what)
		return false
	}
	return true
}

// unique reports names that repeat within one list.
func (c *checker) unique(list string, names []string) {
	first := map[string]int{}
	for i, n := range names {
		if n == "" {
			continue
		}
		if j, ok := first[n]; ok {
			c.errorf(fmt.Sprintf("%s[%d].name", list, i), "%s name %q repeated (first at %s)", strings.TrimSuffix(list, "s"), n, c.src.at(fmt.Sprintf("%s[%d].name", list, j)))
			continue
		}
		first[n] = i
	}
}

func (c *checker) check() {
	s := c.s
	c.required("platform", "platform", s.Platform)
	if _, err := time.LoadLocation(s.Timezone); err != nil {
		c.errorf("timezone", "unknown time zone %q (use an IANA name such as Asia/Tokyo)", s.Timezone)
	}
	c.checkWarehouse()
	c.checkCapacity()
	c.checkPipeline()
	c.checkCollect()
	c.checkMetrics()
	c.checkAlarms()
	c.checkTopics()
	c.checkChannels()
	c.checkNotify()
	c.checkMaintenance()
	c.checkQMR()
	c.checkDashboard()
	c.checkServe()
}

func (c *checker) checkWarehouse() {
	w := &c.s.Warehouse
	if !c.src.has("warehouse") {
		c.errorf("warehouse", "the warehouse section is required: its engine (%s or %s) and how to reach it", EngineRedshiftServerless, EnginePostgres)
		return
	}
	if !c.enum("warehouse.engine", "engine", w.Engine, []string{EngineRedshiftServerless, EnginePostgres}) {
		return
	}
	if w.DSN.IsSet() && w.DSNFile != "" {
		c.errorf("warehouse.dsn_file", "set one of warehouse.dsn and warehouse.dsn_file, not both")
	}
	switch w.Engine {
	case EngineRedshiftServerless:
		c.required("warehouse", "warehouse.workgroup", w.Workgroup)
		c.required("warehouse", "warehouse.namespace", w.Namespace)
	case EnginePostgres:
		if !w.DSN.IsSet() && !c.reported("warehouse", "dsn") {
			c.errorf("warehouse", "warehouse.dsn is required for engine postgres (e.g. dsn: ${DPCOPS_WAREHOUSE_DSN})")
		}
	}
	c.checkDSN()
	if w.StatementTimeout.D() < time.Second {
		c.errorf("warehouse.statement_timeout", "statement_timeout must be at least 1s")
	}
}

func (c *checker) checkCapacity() {
	cp := &c.s.Capacity
	if b := cp.BaseRPU; b != 4 && (b < 8 || b > 512 || b%8 != 0) {
		c.errorf("capacity.base_rpu", "base_rpu must be 8 to 512 in steps of 8 (or 4), got %d", b)
	}
	if cp.MaxRPU < cp.BaseRPU {
		c.errorf("capacity.max_rpu", "max_rpu (%d) must be at least base_rpu (%d)", cp.MaxRPU, cp.BaseRPU)
	} else if cp.MaxRPU%8 != 0 && cp.MaxRPU != 4 {
		c.errorf("capacity.max_rpu", "max_rpu must be a multiple of 8, got %d", cp.MaxRPU)
	}
	if cp.PricePerRPUHour < 0 {
		c.errorf("capacity.price_per_rpu_hour", "price_per_rpu_hour must not be negative")
	}
	if cp.StorageQuotaGB < 0 {
		c.errorf("capacity.storage_quota_gb", "storage_quota_gb must not be negative")
	}
	if l := cp.Lease; l != nil {
		p := "capacity.lease"
		if l.NormalMaxRPU < cp.BaseRPU || (l.NormalMaxRPU%8 != 0 && l.NormalMaxRPU != 4) {
			c.errorf(p+".normal_max_rpu", "normal_max_rpu must be at least base_rpu (%d) and a multiple of 8, got %d", cp.BaseRPU, l.NormalMaxRPU)
		}
		if l.BatchMaxRPU <= l.NormalMaxRPU || l.BatchMaxRPU%8 != 0 {
			c.errorf(p+".batch_max_rpu", "batch_max_rpu must be above normal_max_rpu (%d) and a multiple of 8, got %d", l.NormalMaxRPU, l.BatchMaxRPU)
		}
		if l.BatchMaxRPU > cp.MaxRPU {
			c.errorf(p+".batch_max_rpu", "batch_max_rpu (%d) must not exceed capacity.max_rpu (%d)", l.BatchMaxRPU, cp.MaxRPU)
		}
		if l.MaxDuration.D() < time.Minute || l.MaxDuration.D() > 24*time.Hour {
			c.errorf(p+".max_duration", "max_duration must be 1m to 24h, got %s", l.MaxDuration)
		}
	}
	if u := cp.UsageLimit; u != nil {
		p := "capacity.usage_limit"
		if u.RPUHours <= 0 {
			c.errorf(p+".rpu_hours", "usage_limit.rpu_hours must be positive")
		}
		c.enum(p+".period", "usage limit period", u.Period, []string{"daily", "weekly", "monthly"})
		c.enum(p+".breach_action", "breach action", u.BreachAction, []string{"log", "emit-metric", "deactivate"})
		if u.NotifyAtPercent <= 0 || u.NotifyAtPercent > 100 {
			c.errorf(p+".notify_at_percent", "notify_at_percent must be in (0, 100], got %g", u.NotifyAtPercent)
		}
	}
}

func (c *checker) checkPipeline() {
	p := &c.s.Pipeline
	if !c.enum("pipeline.kind", "pipeline kind", p.Kind, []string{PipelineStepFunctions, PipelineLedger}) {
		return
	}
	if p.Kind == PipelineStepFunctions {
		if c.required("pipeline", "pipeline.state_machine_arn", p.StateMachineARN) && !strings.HasPrefix(p.StateMachineARN, "arn:aws:states:") {
			c.errorf("pipeline.state_machine_arn", "state_machine_arn must be a Step Functions ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)")
		}
	}
	d := &c.s.ELTDelay
	if c.enum("elt_delay.method", "ELT delay method", d.Method, []string{DelayPipelineCompletion, DelayMartUpdated, DelayBoth}) &&
		d.Method != DelayPipelineCompletion && strings.TrimSpace(d.MartQuery) == "" {
		c.errorf("elt_delay", "elt_delay.mart_query is required for method %s: a query that returns when the marts were last updated", d.Method)
	}
}

func (c *checker) checkCollect() {
	col := &c.s.Collect
	if col.Interval.D() < time.Second {
		c.errorf("collect.interval", "collect.interval must be at least 1s")
	}
	if col.Retention.D() < time.Hour {
		c.errorf("collect.retention", "collect.retention must be at least 1h")
	}
	switch col.Publisher {
	case PublisherLambda, PublisherServe:
	default:
		c.errorf("collect.publisher", "collect.publisher must be lambda or serve, got %q", col.Publisher)
	}
	if l := c.s.Store.LeaderLease.D(); l < 3*time.Second || l > 5*time.Minute {
		c.errorf("store.leader_lease", "store.leader_lease must be from 3s to 5m, got %s", c.s.Store.LeaderLease)
	}
	r := c.s.Store.Retention
	for _, k := range []struct {
		key string
		d   Duration
	}{{"notifications", r.Notifications}, {"history", r.History}, {"incidents", r.Incidents}} {
		if k.d.D() < 24*time.Hour {
			c.errorf("store.retention."+k.key, "store.retention.%s must be at least 1d, got %s", k.key, k.d)
		}
	}
	if r.Incidents.D() < r.History.D() {
		c.errorf("store.retention.incidents", "store.retention.incidents (%s) must be at least store.retention.history (%s): incidents are kept longest", r.Incidents, r.History)
	}
}

func (c *checker) checkMetrics() {
	s := c.s
	names := make([]string, len(s.Metrics))
	for i, m := range s.Metrics {
		names[i] = m.Name
		p := fmt.Sprintf("metrics[%d]", i)
		if c.required(p, "metric name", m.Name) && !identRE.MatchString(m.Name) {
			c.errorf(p+".name", "metric name %q must be letters, digits and _ (expressions refer to it)", m.Name)
		}
		switch {
		case m.Source == SourceSQL:
			c.required(p, "sql (the query of a source: sql metric)", m.SQL)
		case m.Source == "":
			c.errorf(p, "metric %s needs a source (one of %s, or sql)", m.Name, sourceNames())
		default:
			info, ok := Source(m.Source)
			if !ok {
				c.errorf(p+".source", "unknown source %q (known: %s, sql)%s", m.Source, sourceNames(), suggest(m.Source, sourceNameList()))
				break
			}
			if m.SQL != "" {
				c.errorf(p+".sql", "sql applies only to source: sql")
			}
			if !slices.Contains(info.Engines, s.Warehouse.Engine) {
				c.errorf(p+".source", "source %s is not available on engine %s (only on %s)", m.Source, s.Warehouse.Engine, strings.Join(info.Engines, ", "))
			}
			if m.Source == "storage_percent" && s.Capacity.StorageQuotaGB <= 0 {
				c.errorf(p+".source", "source storage_percent needs capacity.storage_quota_gb")
			}
			if m.Source == "capacity_lease" && s.Capacity.Lease == nil {
				c.errorf(p+".source", "source capacity_lease needs capacity.lease")
			}
			if m.Source == "usage_limit_percent" && s.Capacity.UsageLimit == nil {
				c.errorf(p+".source", "source usage_limit_percent needs capacity.usage_limit")
			}
		}
		c.enum(p+".unit", "unit", m.Unit, Units)
	}
	c.unique("metrics", names)
}

func (c *checker) checkAlarms() {
	s := c.s
	names := make([]string, len(s.Alarms))
	for i := range s.Alarms {
		a := &s.Alarms[i]
		names[i] = a.Name
		p := fmt.Sprintf("alarms[%d]", i)
		if c.required(p, "alarm name", a.Name) && len(a.Name) > 255 {
			c.errorf(p+".name", "alarm name is longer than CloudWatch's 255 characters")
		}
		c.checkAlarmSource(p, a)
		if !ValidStatistic(a.Statistic) {
			c.errorf(p+".statistic", "unknown statistic %q (known: %s, or a percentile such as p99)%s", a.Statistic, oneOf(Statistics), suggest(a.Statistic, Statistics))
		}
		c.checkPeriod(p+".period", a.Period)
		if a.EvaluationPeriods < 1 {
			c.errorf(p+".evaluation_periods", "evaluation_periods must be at least 1")
		}
		if a.DatapointsToAlarm < 1 || a.DatapointsToAlarm > a.EvaluationPeriods {
			c.errorf(p+".datapoints_to_alarm", "datapoints_to_alarm must be between 1 and evaluation_periods (%d), got %d", a.EvaluationPeriods, a.DatapointsToAlarm)
		}
		if total := a.Period.Seconds() * int64(a.EvaluationPeriods); a.Period.Seconds() < 3600 && total > 86400 {
			c.errorf(p+".evaluation_periods", "period × evaluation_periods is %ds; CloudWatch allows at most 1 day when the period is under 1h", total)
		} else if total > 604800 {
			c.errorf(p+".evaluation_periods", "period × evaluation_periods is %ds; CloudWatch allows at most 7 days", total)
		}
		c.enum(p+".comparison", "comparison", a.Comparison, Comparisons)
		if a.Threshold == nil {
			c.errorf(p, "alarm %s needs a threshold", a.Name)
		}
		c.enum(p+".treat_missing_data", "treat_missing_data", a.TreatMissingData, MissingData)
		c.enum(p+".severity", "severity", a.Severity, Severities)
		for j, t := range a.Topics {
			if _, ok := s.Topic(t); !ok {
				c.errorf(fmt.Sprintf("%s.topics[%d]", p, j), "alarm %s names topic %q, which is not defined in topics", a.Name, t)
			}
		}
		if len(a.Topics) == 0 && a.Enabled.On() {
			c.warnf(p, "alarm %s has no topics: its transitions notify nobody", a.Name)
		}
		for j, act := range a.Actions {
			ap := fmt.Sprintf("%s.actions[%d]", p, j)
			if c.enum(ap, "alarm action", act, AlarmActions) && act == "rerun-pipeline" && !s.Pipeline.Rerun {
				c.warnf(ap, "action rerun-pipeline does nothing while pipeline.rerun is false")
			}
		}
	}
	c.unique("alarms", names)
}

// checkAlarmSource checks that an alarm watches exactly one metric or one
// expression, and that everything it names exists.
func (c *checker) checkAlarmSource(p string, a *Alarm) {
	switch {
	case a.Metric != "" && a.Expression != "":
		c.errorf(p+".expression", "alarm %s sets both metric and expression; use one", a.Name)
	case a.Metric != "":
		if _, ok := c.s.Metric(a.Metric); !ok {
			c.errorf(p+".metric", "alarm %s names metric %q, which is not defined in metrics%s", a.Name, a.Metric, suggest(a.Metric, c.metricNames()))
		}
	case a.Expression != "":
		c.checkExpression(p+".expression", a.Expression, nil)
	default:
		c.errorf(p, "alarm %s needs a metric or an expression", a.Name)
	}
}

// checkExpression parses a metric math expression and checks that each
// name it uses is a spec metric or one of ids.
func (c *checker) checkExpression(path, expr string, ids []string) {
	n, err := metricmath.Parse(expr)
	if err != nil {
		c.errorf(path, "expression %q: %v", expr, err)
		return
	}
	for _, ref := range metricmath.Refs(n) {
		if _, ok := c.s.Metric(ref); !ok && !slices.Contains(ids, ref) {
			c.errorf(path, "expression %q names %q, which is not defined in metrics%s", expr, ref, suggest(ref, c.metricNames()))
		}
	}
}

func (c *checker) checkPeriod(path string, d Duration) {
	sec := d.Seconds()
	if d.D()%time.Second != 0 || (sec != 10 && sec != 20 && sec != 30 && (sec == 0 || sec%60 != 0)) {
		c.errorf(path, "period must be 10s, 20s, 30s or a multiple of 60s, got %s", d)
	}
}

func (c *checker) metricNames() []string {
	out := make([]string, len(c.s.Metrics))
	for i, m := range c.s.Metrics {
		out[i] = m.Name
	}
	return out
}

func sourceNameList() []string {
	out := make([]string, len(Sources))
	for i, s := range Sources {
		out[i] = s.Name
	}
	return out
}

func sourceNames() string { return oneOf(sourceNameList()) }
