package render

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/dpc-learning/dpcops/internal/metricmath"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// CloudWatch's limits on metric alarms (aws-facts §6, alarm limits).
const (
	maxAlarmMetrics  = 10
	maxAlarmName     = 255
	maxDescription   = 1024
	insightsLookback = 3 * 3600
	maxFilterCombos  = 150
	maxScheduleName  = 64
	maxChatbotConfig = 128
	maxDashboardName = 255
	maxSNSTopicName  = 256
	usageLimitType   = "serverless-compute"
)

// extendedStatRE is the percentile syntax CloudWatch accepts (pNN or
// pNN.NN...). The spec's loader takes the same; render checks again for
// a spec changed after loading.
var extendedStatRE = regexp.MustCompile(`^p\d{1,2}(\.\d{1,10})?$`)

// mquery is one metric_query block of a math alarm.
type mquery struct {
	id         string
	expression str
	label      string
	returnData bool
	// metric is set for a query that fetches one metric.
	metric *series
	stat   string
	// period is set on metrics and Metrics Insights queries.
	period int64
}

// queryBuilder collects the metric_query blocks of one alarm.
type queryBuilder struct {
	r        *renderer
	stat     string
	period   int64
	queries  []mquery
	metrics  int
	insights int
	n        map[string]int
	// counts are the ids of sums of a count AWS publishes only for the
	// periods that have something to count: for them no datapoint means 0.
	counts map[string]bool
}

func (b *queryBuilder) id(prefix string) string {
	if b.n == nil {
		b.n = map[string]int{}
	}
	b.n[prefix]++
	return prefix + strconv.Itoa(b.n[prefix])
}

// add adds the queries that produce one spec series and returns the id
// that stands for it in the alarm's expression.
func (b *queryBuilder) add(se series) (string, error) {
	switch se.kind {
	case perQueryType:
		return b.addPerQueryType(se)
	case usageSeries:
		return b.addUsage(se)
	}
	id := b.id("m")
	s := se
	b.queries = append(b.queries, mquery{id: id, metric: &s, stat: b.stat, period: b.period})
	b.metrics++
	return id, nil
}

// addPerQueryType sums a metric AWS publishes only per QueryType. SEARCH
// is not allowed in alarms, so the sum is one Metrics Insights query when
// the alarm has none yet and the statistic sums, else one metric per
// QueryType added up with SUM([...]).
func (b *queryBuilder) addPerQueryType(se series) (string, error) {
	id, err := b.addPerQueryTypeSum(se)
	if _, counts := insightsFuncs[b.stat]; counts && err == nil {
		if b.counts == nil {
			b.counts = map[string]bool{}
		}
		b.counts[id] = true
	}
	return id, err
}

func (b *queryBuilder) addPerQueryTypeSum(se series) (string, error) {
	if fn, ok := insightsFuncs[b.stat]; ok && b.insights == 0 {
		return b.addInsights(se, fn)
	}
	ids := make([]string, len(queryTypes))
	for i, t := range queryTypes {
		s := se
		s.dims = withQueryType(se.dims, t)
		ids[i] = b.id("m")
		b.queries = append(b.queries, mquery{id: ids[i], metric: &s, stat: b.stat, period: b.period})
		b.metrics++
	}
	id := b.id("s")
	b.queries = append(b.queries, mquery{id: id, expression: lit("SUM([" + strings.Join(ids, ", ") + "])"),
		label: se.specName + " (all query types)"})
	return id, nil
}

func (b *queryBuilder) addUsage(se series) (string, error) {
	fn, ok := usageFuncs[b.stat]
	if !ok {
		return "", fmt.Errorf("statistic %s cannot be computed by the Metrics Insights query that reads the usage limit (use Maximum)", b.stat)
	}
	if b.insights > 0 {
		return "", fmt.Errorf("it needs a second Metrics Insights query (for the usage limit); CloudWatch allows one per alarm")
	}
	id, _ := b.addInsights(se, fn)
	if !se.percent {
		return id, nil
	}
	pct := b.id("u")
	b.queries = append(b.queries, mquery{id: pct, expression: lit("100 * " + id + " / " + fmtNum(b.r.s.Capacity.UsageLimit.RPUHours)),
		label: se.specName + " (% of the usage limit)"})
	return pct, nil
}

func (b *queryBuilder) addInsights(se series, fn string) (string, error) {
	id := b.id("q")
	b.queries = append(b.queries, mquery{id: id, expression: b.r.insightsQuery(se, fn), label: se.specName, period: b.period})
	b.insights++
	return id, nil
}

// returning marks the query with the given id as the alarm's value.
func (b *queryBuilder) returning(id string) {
	for i := range b.queries {
		b.queries[i].returnData = b.queries[i].id == id
	}
}

// expression renders a spec expression over the series' ids.
func (b *queryBuilder) expression(n metricmath.Node, ids map[string]string, label string) {
	n = metricmath.Rename(unwrapSingle(n), func(name string) string { return ids[name] })
	// An hour of only failures is 100 %, not missing (see FillDivisors).
	n = metricmath.FillDivisors(n, func(id string) bool { return b.counts[id] })
	id := b.id("e")
	b.queries = append(b.queries, mquery{id: id, expression: lit(n.String()), label: label})
	b.returning(id)
}

// unwrapSingle replaces SUM(x), AVG(x), MIN(x) and MAX(x) of one series
// with x: dpcops reads them as the series itself, while CloudWatch would
// reduce the series to one number, which an alarm cannot watch.
func unwrapSingle(n metricmath.Node) metricmath.Node {
	switch n := n.(type) {
	case metricmath.Call:
		if _, isList := n.Args[0].(metricmath.List); !isList && n.Fn != "DIFF" && n.Fn != "RATE" && n.Fn != "ABS" {
			return unwrapSingle(n.Args[0])
		}
		args := make([]metricmath.Node, len(n.Args))
		for i, a := range n.Args {
			args[i] = unwrapSingle(a)
		}
		return metricmath.Call{Fn: n.Fn, Args: args, Offset: n.Offset}
	case metricmath.Binary:
		return metricmath.Binary{Op: n.Op, L: unwrapSingle(n.L), R: unwrapSingle(n.R)}
	case metricmath.Unary:
		return metricmath.Unary{X: unwrapSingle(n.X)}
	case metricmath.List:
		items := make([]metricmath.Node, len(n.Items))
		for i, a := range n.Items {
			items[i] = unwrapSingle(a)
		}
		return metricmath.List{Items: items}
	}
	return n
}

// checkQueryValues refuses dimension values that would break out of the
// quotes of a Metrics Insights query or a SEARCH expression.
func checkQueryValues(se series) error {
	for _, d := range se.dims {
		if strings.ContainsAny(d.value.String(), `'"\`) {
			return fmt.Errorf("dimension %s = %q has a quote or backslash, which a Metrics Insights query or SEARCH expression cannot hold", d.name, d.value.String())
		}
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// fmtNum formats a number as metric math and JSON write it.
func fmtNum(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// statistic returns the CloudWatch attribute for a spec statistic:
// statistic for the five standard ones, extended_statistic for pNN.
func statistic(s string) (attr string, ok bool) {
	for _, st := range spec.Statistics {
		if s == st {
			return "statistic", true
		}
	}
	return "extended_statistic", extendedStatRE.MatchString(s)
}
