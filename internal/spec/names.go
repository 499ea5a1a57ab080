package spec

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Comparisons are CloudWatch's comparison operators.
var Comparisons = []string{
	"GreaterThanThreshold", "GreaterThanOrEqualToThreshold",
	"LessThanThreshold", "LessThanOrEqualToThreshold",
}

// Statistics are CloudWatch's statistics; pNN percentiles are accepted too.
var Statistics = []string{"Average", "Sum", "Minimum", "Maximum", "SampleCount"}

// MissingData are the treat_missing_data values.
var MissingData = []string{"missing", "ignore", "breaching", "notBreaching"}

// Severities of alarms, most urgent first.
var Severities = []string{"critical", "error", "warning", "info"}

// AlarmActions are the actions an alarm may run on entering ALARM.
var AlarmActions = []string{"rerun-pipeline"}

// Events a maintenance job may follow.
var Events = []string{"pipeline_success"}

// ConditionMetrics are the figures a maintenance condition may test.
var ConditionMetrics = []string{
	"unused_percent", "unsorted_percent", "stats_off", "modified_percent",
	"rows_loaded", "at_max_capacity_percent",
}

// Units are CloudWatch's standard units.
var Units = []string{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
	"Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits",
	"Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second",
	"Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second",
	"Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}

// WidgetTypes are the dashboard widget types dpcops understands.
var WidgetTypes = []string{"metric", "log", "text", "alarm"}

// SourceSQL is the source of a metric defined by its own query.
const SourceSQL = "sql"

// SourceInfo describes a built-in metric source.
type SourceInfo struct {
	Name string
	// Engines that implement the source.
	Engines []string
	// Unit is the unit the source produces.
	Unit string
	// PerTable sources produce one series per table (dimension Table).
	PerTable bool
	// External sources are written by another part of dpcops (the lease
	// manager, self-monitoring), not read by a collection cycle.
	External bool
	// Sparse counts are published by AWS only for the periods that had
	// something to count: no datapoint there means 0, which an alarm's
	// divisor reads so (metricmath.FillDivisors).
	Sparse bool
	Doc    string
}

var bothEngines = []string{EngineRedshiftServerless, EnginePostgres}
var serverlessOnly = []string{EngineRedshiftServerless}

// Sources is the catalog of built-in metric sources. The collect package
// implements each of them for each engine listed.
var Sources = []SourceInfo{
	{Name: "elt_delay", Engines: bothEngines, Unit: "None", Doc: "minutes since the pipeline's last success and/or the marts' last update"},
	{Name: "load_errors", Engines: bothEngines, Unit: "Count", Doc: "new load (COPY) error rows"},
	{Name: "queries_succeeded", Engines: bothEngines, Unit: "Count", Sparse: true, Doc: "queries that succeeded in the interval"},
	{Name: "queries_failed", Engines: bothEngines, Unit: "Count", Sparse: true, Doc: "queries that failed in the interval"},
	{Name: "query_failure_rate", Engines: bothEngines, Unit: "Percent", Doc: "failed ÷ (failed + succeeded) over the metric's window"},
	{Name: "queries_running", Engines: bothEngines, Unit: "Count", Doc: "queries running now"},
	{Name: "compute_capacity", Engines: bothEngines, Unit: "None", Doc: "RPU in use (Redshift); active backends (PostgreSQL)"},
	{Name: "rpu_minute", Engines: bothEngines, Unit: "None", Doc: "RPUs in use in each minute, from SYS_SERVERLESS_USAGE (read only while the workgroup is busy; superusers only), where ComputeCapacity averages 30 minutes (Redshift); active backends (PostgreSQL)"},
	{Name: "compute_seconds", Engines: serverlessOnly, Unit: "None", Doc: "RPU-seconds used"},
	{Name: "data_storage", Engines: bothEngines, Unit: "Megabytes", Doc: "storage used"},
	{Name: "storage_percent", Engines: bothEngines, Unit: "Percent", Doc: "storage used ÷ capacity.storage_quota_gb"},
	{Name: "idle_percent", Engines: bothEngines, Unit: "Percent", Doc: "share of periods with no compute (Redshift) or no active query (PostgreSQL)"},
	{Name: "usage_limit_consumed", Engines: serverlessOnly, Unit: "None", Doc: "RPU-hours consumed of the usage limit"},
	{Name: "usage_limit_percent", Engines: bothEngines, Unit: "Percent", Doc: "RPU-hours this period ÷ capacity.usage_limit.rpu_hours"},
	{Name: "table_skew", Engines: serverlessOnly, Unit: "Percent", PerTable: true, Doc: "(skew_rows − 1) × 100 from SVV_TABLE_INFO"},
	{Name: "table_unused_percent", Engines: bothEngines, Unit: "Percent", PerTable: true, Doc: "1 − estimated_visible_rows ÷ tbl_rows (Redshift); dead ÷ all tuples (PostgreSQL)"},
	{Name: "table_unsorted_percent", Engines: serverlessOnly, Unit: "Percent", PerTable: true, Doc: "SVV_TABLE_INFO.unsorted"},
	{Name: "table_stats_off", Engines: bothEngines, Unit: "Percent", PerTable: true, Doc: "SVV_TABLE_INFO.stats_off (Redshift); rows modified since ANALYZE ÷ live rows (PostgreSQL)"},
	{Name: "database_connections", Engines: bothEngines, Unit: "Count", Doc: "open connections"},
	{Name: "capacity_lease", Engines: bothEngines, Unit: "Count", External: true, Doc: "1 while a capacity lease stays open past its end or the last lower failed, else 0 (written by the lease manager)"},
	{Name: SourceCollectorFailures, Engines: bothEngines, Unit: "Count", External: true, Doc: "dpcops watching itself: consecutive failed collection cycles, the most of any of its collectors (warehouse, CloudWatch, Step Functions, log); 0 when all succeed"},
	{Name: SourceDeliveriesFailing, Engines: bothEngines, Unit: "Count", External: true, Doc: "dpcops watching itself: deliveries that failed or expired in the last hour, are still retrying after notify.failing_attempts attempts, or have been due for 5 minutes without an attempt"},
}

// The sources of dpcops' own health.
const (
	SourceCollectorFailures = "self_collector_failures"
	SourceDeliveriesFailing = "self_deliveries_failing"
)

// Source returns the catalog entry of a built-in source.
func Source(name string) (SourceInfo, bool) {
	for _, s := range Sources {
		if s.Name == name {
			return s, true
		}
	}
	return SourceInfo{}, false
}

// ValidStatistic reports whether s is a CloudWatch statistic or pNN.
func ValidStatistic(s string) bool {
	if slices.Contains(Statistics, s) {
		return true
	}
	p, ok := Percentile(s)
	return ok && p > 0 && p < 100
}

// percentileRE is CloudWatch's pNN.NN: decimal digits only, so that
// strconv's other spellings ("NaN", "Inf", "1e1", "0x1p-2") are refused.
var percentileRE = regexp.MustCompile(`^p[0-9]{1,2}(\.[0-9]{1,10})?$`)

// Percentile parses pNN ("p99", "p99.9") and returns NN, which lies
// strictly between 0 and 100.
func Percentile(s string) (float64, bool) {
	if !percentileRE.MatchString(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s[1:], 64)
	if err != nil || f <= 0 || f >= 100 {
		return 0, false
	}
	return f, true
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func oneOf(list []string) string {
	return strings.Join(list, ", ")
}
