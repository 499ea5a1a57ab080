package collect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// cwWindow is how far back each cycle reads CloudWatch: its metrics arrive
// minutes late, and re-reading a point stores it again at its own time,
// which replaces it.
const cwWindow = 15 * time.Minute

// busyLookback is how recent a compute datapoint must be to call the
// workgroup busy.
const busyLookback = 5 * time.Minute

// cwSource describes how a source reads CloudWatch.
type cwSource struct {
	id     string
	metric string
	stat   string
	// search sums a metric AWS publishes only per QueryType or
	// UsageLimitId.
	search string
	// dim is the dimension the metric is published with: Workgroup, or
	// Namespace for storage.
	dim string
}

var cwSources = map[string]cwSource{
	"compute_capacity":     {id: "cap", metric: "ComputeCapacity", stat: "Average", dim: "Workgroup"},
	"compute_seconds":      {id: "secs", metric: "ComputeSeconds", stat: "Sum", dim: "Workgroup"},
	"data_storage":         {id: "storage", metric: "DataStorage", stat: "Average", dim: "Namespace"},
	"database_connections": {id: "conns", metric: "DatabaseConnections", stat: "Average", dim: "Workgroup"},
	"queries_succeeded":    {id: "ok", metric: "QueriesSucceeded", stat: "Sum", search: "QueryType,Workgroup"},
	"queries_failed":       {id: "failed", metric: "QueriesFailed", stat: "Sum", search: "QueryType,Workgroup"},
	"queries_running":      {id: "running", metric: "QueriesRunning", stat: "Average", search: "QueryType,Workgroup"},
	"usage_limit_consumed": {id: "usage", metric: "UsageLimitConsumed", stat: "Maximum", search: "UsageLimitId,UsageType,Workgroup"},
}

// derivedFrom names the CloudWatch sources a derived source needs.
var derivedFrom = map[string][]string{
	"storage_percent":    {"data_storage"},
	"query_failure_rate": {"queries_succeeded", "queries_failed"},
	"idle_percent":       {"compute_seconds"},
}

func (cy *cycle) cwQuery(source string) aws.MetricQuery {
	src := cwSources[source]
	w := cy.s.Warehouse
	if src.search != "" {
		expr := fmt.Sprintf(`SUM(SEARCH('{%s,%s} MetricName="%s" Workgroup="%s"', '%s', 60))`,
			spec.ServerlessNamespace, src.search, src.metric, w.Workgroup, src.stat)
		return aws.MetricQuery{ID: src.id, Expression: expr, Period: time.Minute}
	}
	value := w.Workgroup
	if src.dim == "Namespace" {
		value = w.Namespace
	}
	return aws.MetricQuery{ID: src.id, Namespace: spec.ServerlessNamespace, MetricName: src.metric,
		Dimensions: map[string]string{src.dim: value}, Stat: src.stat, Period: time.Minute}
}

// readCloudWatch reads, in one call, the CloudWatch series of the due
// metrics and the workgroup's compute (for the wake policy), and the
// period's compute seconds when usage is due.
func (cy *cycle) readCloudWatch(ctx context.Context) {
	if cy.c.o.AWS == nil {
		cy.cwErr = errors.New("no AWS client")
		return
	}
	// The query counts tell the wake policy whether anyone but dpcops is
	// using the workgroup.
	want := map[string]bool{"queries_succeeded": true, "queries_failed": true, "queries_running": true}
	window := cwWindow
	usage := false
	for _, m := range cy.due {
		if _, ok := cwSources[m.Source]; ok {
			want[m.Source] = true
		}
		for _, s := range derivedFrom[m.Source] {
			want[s] = true
		}
		if m.Source == "query_failure_rate" || m.Source == "idle_percent" {
			window = max(window, m.Window.D(), m.Interval.D())
		}
		usage = usage || m.Source == "usage_limit_percent"
	}
	var queries []aws.MetricQuery
	for _, s := range sortedKeys(want) {
		queries = append(queries, cy.cwQuery(s))
	}
	h := cy.healthOf(healthCloudWatch)
	start := time.Now()
	cy.cw, cy.cwErr = cy.c.o.AWS.MetricData(ctx, queries, cy.now.Add(-window), cy.now)
	if cy.cwErr == nil && usage {
		q := cy.cwQuery("compute_seconds")
		q.ID, q.Period = "period", 24*time.Hour
		var pts map[string][]aws.Point
		pts, cy.usageErr = cy.c.o.AWS.MetricData(ctx, []aws.MetricQuery{q}, periodStart(cy.s, cy.now), cy.now)
		cy.usage = pts["period"]
	}
	h.Duration = time.Since(start)
	if err := errors.Join(cy.cwErr, cy.usageErr); err != nil {
		cy.fail(healthCloudWatch, err)
	}
}

// readStepFunctions reads the pipeline's newest execution (for the wake
// policy) and its newest success (for ELT delay).
func (cy *cycle) readStepFunctions(ctx context.Context) {
	if cy.s.Pipeline.Kind != spec.PipelineStepFunctions || cy.c.o.AWS == nil {
		return
	}
	arn := cy.s.Pipeline.StateMachineARN
	h := cy.healthOf(healthPipeline)
	start := time.Now()
	defer func() { h.Duration = time.Since(start) }()
	latest, err := cy.c.o.AWS.LatestExecution(ctx, arn, "")
	if err != nil {
		cy.fail(healthPipeline, err)
		return
	}
	cy.noteExecution(latest)
	if latest != nil && latest.Stop != nil {
		if last, ok := cy.state(stateLastSQL); !ok || latest.Stop.After(last.Time) {
			cy.setState("wake.pipeline_stop", float64(latest.Stop.Unix()), *latest.Stop)
		}
	}
	if latest != nil && latest.Status == "SUCCEEDED" {
		cy.exec, cy.execOK = latest, true
		return
	}
	cy.exec, err = cy.c.o.AWS.LatestExecution(ctx, arn, "SUCCEEDED")
	if err != nil {
		cy.fail(healthPipeline, err)
		return
	}
	cy.noteExecution(cy.exec)
	cy.execOK = true
}

// noteExecution keeps an execution as a pipeline run, for the charts.
func (cy *cycle) noteExecution(x *aws.Execution) {
	if x != nil {
		cy.runs = append(cy.runs, store.PipelineRun{Pipeline: cy.s.Pipeline.Name, ID: x.Name, Started: x.Start, Finished: x.Stop, Status: x.Status})
	}
}

// sqlAllowed applies the wake policy: SQL goes to a serverless workgroup
// only when it is busy anyway, right after a pipeline run finished, or
// when collect.idle_sql_interval has passed since the last SQL. busy says
// whether sending it breaks no idle period.
func (cy *cycle) sqlAllowed() (ok, busy bool, why string) {
	busy = cy.othersBusy()
	if cy.cwErr == nil {
		cy.setState(StateBusy, boolValue(busy), cy.now)
	}
	if busy {
		return true, true, ""
	}
	if cy.c.o.NeverWake {
		return false, false, "workgroup idle: the publisher sends SQL only while it is busy"
	}
	last, ran := cy.state(stateLastSQL)
	if stop, ok := cy.states["wake.pipeline_stop"]; ok && (!ran || stop.Time.After(last.Time)) {
		return true, false, ""
	}
	if !ran || cy.now.Sub(last.Time) >= cy.s.Collect.IdleSQLInterval.D() {
		return true, false, ""
	}
	next := last.Time.Add(cy.s.Collect.IdleSQLInterval.D())
	return false, false, fmt.Sprintf("workgroup idle: SQL deferred until it is busy, a pipeline run ends, or %s (collect.idle_sql_interval)", next.Format(time.RFC3339))
}

// StateBusy is the collector's last word on whether the workgroup is busy
// with work other than dpcops' own (1) or not (0), at the time of the
// cycle that said so: query monitoring and maintenance read it.
const StateBusy = "wake.busy"

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// othersBusy reports whether the workgroup ran queries other than dpcops'
// own in the last busyLookback: more finished than dpcops sent in that
// time (give or take a minute of CloudWatch's lag), or some running in a
// minute in which dpcops sent nothing. Compute metrics cannot tell:
// ComputeCapacity and ComputeSeconds are 30-minute figures, and any
// statement, dpcops' own included, is billed for at least 60 s, so a
// collector that counted its own compute as busy would keep sending SQL,
// and the workgroup awake, for ever.
func (cy *cycle) othersBusy() bool {
	since := cy.now.Add(-busyLookback)
	finished := sumSince(cy.cw["ok"], since) + sumSince(cy.cw["failed"], since)
	if finished > float64(cy.c.ownSince(since.Add(-time.Minute))) {
		return true
	}
	for _, p := range cy.cw["running"] {
		if p.Value > 0 && !p.Time.Before(since) && cy.c.ownSince(p.Time.Add(-time.Minute))-cy.c.ownSince(p.Time.Add(2*time.Minute)) == 0 {
			return true
		}
	}
	return false
}

// computeServerless produces a metric's readings on Redshift Serverless.
func (cy *cycle) computeServerless(m spec.Metric) string {
	switch m.Source {
	case "elt_delay":
		return cy.eltDelay(m)
	case "load_errors":
		return cy.loadErrors(m)
	case spec.SourceSQL:
		return cy.custom(m)
	case "rpu_minute":
		if cy.snap.RPUMinutes == nil {
			return cy.partErr("rpu_minutes")
		}
		for _, r := range cy.snap.RPUMinutes {
			cy.emit(m, m.Dimensions, r.At, r.RPU)
		}
		return ""
	case "table_skew":
		return cy.perTable(m, func(t backend.Table) (float64, bool) { return t.SkewPercent, true })
	case "table_unused_percent":
		return cy.perTable(m, func(t backend.Table) (float64, bool) { return t.UnusedPercent, true })
	case "table_unsorted_percent":
		return cy.perTable(m, func(t backend.Table) (float64, bool) { return t.UnsortedPercent, true })
	case "table_stats_off":
		return cy.perTable(m, func(t backend.Table) (float64, bool) { return t.StatsOff, true })
	}
	if cy.cwErr != nil {
		return "CloudWatch: " + cy.cwErr.Error()
	}
	if src, ok := cwSources[m.Source]; ok {
		pts := cy.cw[src.id]
		if len(pts) == 0 {
			return fmt.Sprintf("CloudWatch has no %s datapoints in the last %s", src.metric, cwWindow)
		}
		for _, p := range pts {
			cy.emit(m, m.Dimensions, p.Time, p.Value)
		}
		return ""
	}
	return cy.derivedServerless(m)
}

func (cy *cycle) derivedServerless(m spec.Metric) string {
	switch m.Source {
	case "storage_percent":
		pts := cy.cw["storage"]
		if len(pts) == 0 {
			return "CloudWatch has no DataStorage datapoints"
		}
		last := pts[len(pts)-1]
		cy.emit(m, m.Dimensions, last.Time, 100*last.Value/(cy.s.Capacity.StorageQuotaGB*1024))
	case "query_failure_rate":
		ok := sumSince(cy.cw["ok"], cy.now.Add(-m.Window.D()))
		failed := sumSince(cy.cw["failed"], cy.now.Add(-m.Window.D()))
		if ok+failed == 0 {
			return "no queries finished in the window"
		}
		cy.emit(m, m.Dimensions, cy.now, 100*failed/(ok+failed))
	case "idle_percent":
		cy.emit(m, m.Dimensions, cy.now, idleShare(cy.cw["secs"], cy.now, m.Interval.D()))
	case "usage_limit_percent":
		if cy.usageErr != nil {
			return "CloudWatch: " + cy.usageErr.Error()
		}
		rpuHours := sumSince(cy.usage, time.Time{}) / 3600
		cy.emit(m, m.Dimensions, cy.now, 100*rpuHours/cy.s.Capacity.UsageLimit.RPUHours)
	default:
		return fmt.Sprintf("source %s is not available on engine %s", m.Source, cy.s.Warehouse.Engine)
	}
	return ""
}

func sumSince(pts []aws.Point, since time.Time) float64 {
	total := 0.0
	for _, p := range pts {
		if !p.Time.Before(since) {
			total += p.Value
		}
	}
	return total
}

// idleShare is the percent of the window's minutes in which no compute was
// billed: a minute without a positive ComputeSeconds datapoint was idle.
func idleShare(secs []aws.Point, now time.Time, window time.Duration) float64 {
	minutes := int(window / time.Minute)
	if minutes < 1 {
		minutes = 1
	}
	busy := map[int64]bool{}
	start := now.Add(-window)
	for _, p := range secs {
		if p.Value > 0 && !p.Time.Before(start) && p.Time.Before(now) {
			busy[p.Time.Truncate(time.Minute).Unix()] = true
		}
	}
	return 100 * float64(minutes-len(busy)) / float64(minutes)
}
