package render

import (
	"sort"
	"strings"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// How a spec metric reaches CloudWatch.
type seriesKind int

const (
	// plainSeries is one CloudWatch metric: AWS publishes it as named, or
	// dpcops publishes it (collect.publish) to its own namespace.
	plainSeries seriesKind = iota
	// perQueryType is a metric AWS publishes only per QueryType
	// (QueriesFailed...): the spec's series is their sum.
	perQueryType
	// usageSeries is the workgroup's usage limit consumption
	// (UsageLimitConsumed), as RPU-hours or as a percent of the limit.
	usageSeries
)

// queryTypes are the values of the QueryType dimension (aws-facts §1).
var queryTypes = []string{"CTAS", "DELETE", "INSERT", "LOAD", "OTHER", "SELECT", "UNLOAD", "UPDATE"}

// awsSources maps the built-in sources AWS itself publishes to their
// CloudWatch metric and the dimension they are published with, as the
// collector reads them (internal/collect/serverless.go).
var awsSources = map[string]struct {
	metric string
	dim    string
	kind   seriesKind
}{
	"compute_capacity":     {"ComputeCapacity", "Workgroup", plainSeries},
	"compute_seconds":      {"ComputeSeconds", "Workgroup", plainSeries},
	"data_storage":         {"DataStorage", "Namespace", plainSeries},
	"database_connections": {"DatabaseConnections", "Workgroup", plainSeries},
	"queries_succeeded":    {"QueriesSucceeded", "Workgroup", perQueryType},
	"queries_failed":       {"QueriesFailed", "Workgroup", perQueryType},
	"queries_running":      {"QueriesRunning", "Workgroup", perQueryType},
}

// dim is one dimension of a series, sorted by name.
type dim struct {
	name  string
	value str
}

// series is a spec metric as CloudWatch knows it.
type series struct {
	kind      seriesKind
	namespace string
	metric    string
	dims      []dim
	// specName is the spec metric's name.
	specName string
	// published marks a metric that only dpcops publishes: CloudWatch has
	// it only while a dpcops runs with collect.publish: true.
	published bool
	// percent marks a usage series as a percent of the limit.
	percent bool
}

// resolve maps a spec metric, watched with the given dimensions (empty:
// the metric's own), to its CloudWatch series. ok is false, with a
// problem recorded, when nothing publishes it to CloudWatch.
func (r *renderer) resolve(m *spec.Metric, dims spec.Labels, path, item string) (series, bool) {
	if len(dims) == 0 {
		dims = m.Dimensions
	}
	if m.Source == "usage_limit_percent" || m.Source == "usage_limit_consumed" {
		if r.s.Capacity.UsageLimit == nil {
			r.ps.add(path, item, "metric %s reads the usage limit, but capacity.usage_limit is not set", m.Name)
			return series{}, false
		}
		return series{kind: usageSeries, specName: m.Name, percent: m.Source == "usage_limit_percent",
			namespace: spec.ServerlessNamespace, metric: "UsageLimitConsumed"}, true
	}
	if m.Namespace != spec.ServerlessNamespace {
		return series{kind: plainSeries, namespace: m.Namespace, metric: m.Name, dims: r.dims(dims),
			specName: m.Name, published: true}, true
	}
	src, ok := awsSources[m.Source]
	if !ok {
		r.ps.add(path, item, "metric %s is in namespace %s, but AWS does not publish source %s and dpcops publishes only outside that namespace; give the metric namespace: %s",
			m.Name, spec.ServerlessNamespace, m.Source, spec.DefaultCustomNamespace)
		return series{}, false
	}
	if len(dims) == 0 {
		v := r.s.Warehouse.Workgroup
		if src.dim == "Namespace" {
			v = r.s.Warehouse.Namespace
		}
		dims = spec.Labels{{Name: src.dim, Value: v}}
	}
	se := series{kind: src.kind, namespace: spec.ServerlessNamespace, metric: src.metric, dims: r.dims(dims), specName: m.Name}
	if _, byType := dims.Get("QueryType"); byType {
		se.kind = plainSeries
	}
	return se, true
}

// dims sorts dimensions by name and turns the workgroup's and the
// namespace's names into references to the module's variables, so that
// one variable renames them everywhere.
func (r *renderer) dims(ls spec.Labels) []dim {
	out := make([]dim, len(ls))
	for i, l := range ls {
		out[i] = dim{name: l.Name, value: r.nameRef(l.Name, l.Value)}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// nameRef returns v, as a reference to var.workgroup_name or
// var.namespace_name when it is the spec's workgroup or namespace named
// by a dimension of that name.
func (r *renderer) nameRef(dimName, v string) str {
	w := r.s.Warehouse
	switch {
	case dimName == "Workgroup" && v == w.Workgroup:
		return ref("var.workgroup_name", v)
	case dimName == "Namespace" && v == w.Namespace:
		return ref("var.namespace_name", v)
	}
	return lit(v)
}

// dimsObj returns dimensions as an object.
func dimsObj(ds []dim) obj {
	o := make(obj, len(ds))
	for i, d := range ds {
		o[i] = field{d.name, d.value}
	}
	return o
}

// withQueryType returns the dimensions plus QueryType = t, sorted.
func withQueryType(ds []dim, t string) []dim {
	out := append([]dim{{name: "QueryType", value: lit(t)}}, ds...)
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// insightsFuncs maps the statistics a Metrics Insights query can compute
// over many series to its functions. For a sum over QueryType only Sum
// and SampleCount give the same value as summing each type's statistic.
var insightsFuncs = map[string]string{"Sum": "SUM", "SampleCount": "COUNT"}

// usageFuncs maps statistics to Metrics Insights functions for the one
// usage limit series.
var usageFuncs = map[string]string{"Sum": "SUM", "SampleCount": "COUNT", "Average": "AVG", "Maximum": "MAX", "Minimum": "MIN"}

// insightsQuery returns the Metrics Insights query that aggregates the
// series with fn over the QueryType (or usage limit) dimension.
func (r *renderer) insightsQuery(se series, fn string) str {
	schema := []string{"QueryType"}
	where := se.dims
	if se.kind == usageSeries {
		schema = []string{"UsageLimitId", "UsageType", "Workgroup"}
		where = []dim{{name: "UsageLimitId", value: ref("aws_redshiftserverless_usage_limit.compute.id", "<usage limit id>")}}
	}
	for _, d := range se.dims {
		schema = append(schema, d.name)
	}
	sort.Strings(schema)
	q := lit(`SELECT ` + fn + `(` + se.metric + `) FROM SCHEMA("` + se.namespace + `", ` + strings.Join(schema, ", ") + `)`)
	for i, d := range where {
		kw := " WHERE "
		if i > 0 {
			kw = " AND "
		}
		q = cat(q, lit(kw+d.name+" = '"), d.value, lit("'"))
	}
	return q
}

// searchExpr returns the dashboard expression that sums (or, for the
// usage limit, takes the largest of) the series over QueryType. SEARCH is
// allowed in dashboards, not in alarms.
func (r *renderer) searchExpr(se series, stat string, period int64) str {
	fn, ds := "SUM", se.dims
	all := []string{"QueryType"}
	if se.kind == usageSeries {
		fn, ds = "MAX", []dim{{name: "Workgroup", value: ref("var.workgroup_name", r.s.Warehouse.Workgroup)}}
		all = []string{"UsageLimitId", "UsageType"}
	}
	for _, d := range ds {
		all = append(all, d.name)
	}
	sort.Strings(all)
	schema := []string{searchName(se.namespace)}
	for _, name := range all {
		schema = append(schema, searchName(name))
	}
	q := lit(fn + `(SEARCH('{` + strings.Join(schema, ",") + `} MetricName="` + se.metric + `"`)
	for _, d := range ds {
		q = cat(q, lit(" "+d.name+`="`), d.value, lit(`"`))
	}
	q = cat(q, lit("', '"+stat+"', "+itoa(period)+"))"))
	if se.percent {
		q = cat(lit("100 * "), q, lit(" / "+fmtNum(r.s.Capacity.UsageLimit.RPUHours)))
	}
	return q
}

// searchName writes a namespace or dimension name for the metric schema
// of a SEARCH expression. CloudWatch's search expression syntax wants a
// name that holds anything but letters and digits (AWS/Redshift-Serverless
// has a slash and a hyphen) in double quotes; other names stay bare.
func searchName(name string) string {
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return `"` + name + `"`
		}
	}
	return name
}
