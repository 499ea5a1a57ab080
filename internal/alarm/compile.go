package alarm

import (
	"fmt"
	"math"
	"time"

	"github.com/dpc-learning/dpcops/internal/metricmath"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// Input is one series an alarm reads: a metric and its canonical
// dimensions ("k=v;k=v", spec.Labels.Canonical).
type Input struct {
	Metric string
	Dims   string
}

// compiled is a spec alarm made ready to evaluate.
type compiled struct {
	name   string
	spec   *spec.Alarm
	rule   Rule
	stat   Statistic
	period time.Duration
	// expr is nil for an alarm on one metric. It is evaluated as read
	// (sparse counts in divisors filled); written is the expression as
	// the spec gives it, which reasons quote.
	expr, written metricmath.Node
	// inputs are the series read, in the order the expression first names
	// them (one for a metric alarm).
	inputs []Input
	// lookback is the number of periods before the range the expression
	// needs (DIFF and RATE need the period before).
	lookback int
}

// metricIndex maps the spec's metrics by name: specs with thousands of
// metrics are looked up once per datapoint in a replay.
type metricIndex map[string]*spec.Metric

func indexMetrics(s *spec.Spec) metricIndex {
	idx := make(metricIndex, len(s.Metrics))
	for i := range s.Metrics {
		idx[s.Metrics[i].Name] = &s.Metrics[i]
	}
	return idx
}

// compileAll prepares the alarms of s that keep says to keep.
func compileAll(s *spec.Spec, keep func(*spec.Alarm) bool) ([]*compiled, error) {
	idx := indexMetrics(s)
	var out []*compiled
	for i := range s.Alarms {
		if !keep(&s.Alarms[i]) {
			continue
		}
		c, err := compile(idx, &s.Alarms[i])
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// compile checks an alarm of a validated spec and prepares it. Errors are
// for what the spec validator does not catch, such as DIFF of a constant.
func compile(metrics metricIndex, a *spec.Alarm) (*compiled, error) {
	c := &compiled{name: a.Name, spec: a, period: a.Period.D()}
	if c.period <= 0 {
		return nil, fmt.Errorf("alarm %s: period must be positive", a.Name)
	}
	var err error
	if c.stat, err = ParseStatistic(a.Statistic); err != nil {
		return nil, fmt.Errorf("alarm %s: %w", a.Name, err)
	}
	if c.rule, err = rule(a); err != nil {
		return nil, err
	}
	names := []string{a.Metric}
	if a.Expression != "" {
		if c.expr, err = metricmath.Parse(a.Expression); err != nil {
			return nil, fmt.Errorf("alarm %s: expression %q: %w", a.Name, a.Expression, err)
		}
		c.written = c.expr
		names = metricmath.Refs(c.expr)
		c.lookback = metricmath.Lookback(c.expr)
		// As the CloudWatch form reads it: a sparse count in a divisor
		// is 0 where it has no datapoint, so that an hour of only failed
		// queries is a failure rate of 100 %, not missing.
		c.expr = metricmath.FillDivisors(c.expr, func(name string) bool {
			m, ok := metrics[name]
			if !ok {
				return false
			}
			src, ok := spec.Source(m.Source)
			return ok && src.Sparse
		})
	}
	for _, name := range names {
		m, ok := metrics[name]
		if !ok {
			return nil, fmt.Errorf("alarm %s: metric %q is not defined in metrics", a.Name, name)
		}
		dims := a.Dimensions
		if len(dims) == 0 {
			dims = m.Dimensions
		}
		c.inputs = append(c.inputs, Input{Metric: name, Dims: dims.Canonical()})
	}
	// A dry run finds what only evaluation can, such as DIFF(5).
	probe := make([][]float64, len(c.inputs))
	for i := range probe {
		probe[i] = []float64{math.NaN()}
	}
	if _, err := c.values(probe, 1); err != nil {
		return nil, fmt.Errorf("alarm %s: expression %q: %w", a.Name, a.Expression, err)
	}
	return c, nil
}

func rule(a *spec.Alarm) (Rule, error) {
	r := Rule{EvaluationPeriods: a.EvaluationPeriods, DatapointsToAlarm: a.DatapointsToAlarm}
	var err error
	if r.Comparison, err = ParseComparison(a.Comparison); err != nil {
		return r, fmt.Errorf("alarm %s: %w", a.Name, err)
	}
	if r.Missing, err = ParseMissing(a.TreatMissingData); err != nil {
		return r, fmt.Errorf("alarm %s: %w", a.Name, err)
	}
	if a.Threshold == nil {
		return r, fmt.Errorf("alarm %s: no threshold", a.Name)
	}
	r.Threshold = *a.Threshold
	if r.DatapointsToAlarm == 0 {
		r.DatapointsToAlarm = r.EvaluationPeriods
	}
	if r.EvaluationPeriods < 1 || r.DatapointsToAlarm < 1 || r.DatapointsToAlarm > r.EvaluationPeriods {
		return r, fmt.Errorf("alarm %s: datapoints_to_alarm %d of evaluation_periods %d is not possible", a.Name, r.DatapointsToAlarm, r.EvaluationPeriods)
	}
	return r, nil
}

// span is the number of periods to read for one evaluation: the range and
// the expression's lookback.
func (c *compiled) span() int { return c.rule.RangeLen() + c.lookback }

// values computes the alarm's value for each of n periods from the
// per-period statistics of its inputs (in[i] for c.inputs[i], n each).
func (c *compiled) values(in [][]float64, n int) ([]float64, error) {
	if c.expr == nil {
		return in[0], nil
	}
	return metricmath.Eval(c.expr, metricmath.Env{Len: n, Period: c.period, Series: func(name string) ([]float64, bool) {
		for i, inp := range c.inputs {
			if inp.Metric == name {
				return in[i], true
			}
		}
		return nil, false
	}})
}
