package collect_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/backend/aws/awstest"
	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

// serverlessEnv is the default spec (Redshift Serverless, Step Functions)
// against a fake AWS and, for its SQL, PostgreSQL with the Redshift
// fixture views.
type serverlessEnv struct {
	t     *testing.T
	ctx   context.Context
	now   time.Time
	fake  *awstest.Server
	st    *store.Store
	c     *collect.Collector
	s     *spec.Spec
	dims  map[string]string
	arn   string
	stmts func() int64
}

func newServerless(t *testing.T) *serverlessEnv {
	t.Helper()
	return newServerlessWith(t, nil)
}

// newServerlessWith is newServerless with the spec changed by edit first.
func newServerlessWith(t *testing.T, edit func(*spec.Spec)) *serverlessEnv {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.DB(t)
	pgtest.ExecFile(t, dsn, "../backend/redshift/testdata/fixture.sql")
	s, diags := spec.Default(spec.Options{LookupEnv: func(k string) (string, bool) {
		if k == "DPCOPS_WAREHOUSE_DSN" {
			return dsn, true
		}
		return "", false
	}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if edit != nil {
		edit(s)
	}
	fake := awstest.New()
	t.Cleanup(fake.Close)
	client, err := aws.New(ctx, aws.Options{Region: "ap-northeast-1",
		Endpoints:   map[string]string{"cloudwatch": fake.URL, "stepfunctions": fake.URL},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", "")})
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t)
	w := collect.OpenWarehouse(s)
	t.Cleanup(func() { w.Close() })
	e := &serverlessEnv{t: t, ctx: ctx, now: time.Now().UTC().Truncate(time.Minute), fake: fake, st: st, s: s,
		dims: map[string]string{"Workgroup": "dpc-learning"}, arn: s.Pipeline.StateMachineARN, stmts: w.Statements}
	e.c = collect.New(collect.Options{Spec: s, Store: st, Warehouse: w, AWS: client, Now: func() time.Time { return e.now }})
	return e
}

func (e *serverlessEnv) series(metric, stat string, dims map[string]string, pts ...awstest.Point) {
	e.fake.SetSeries(awstest.SeriesKey(spec.ServerlessNamespace, metric, dims, stat), pts...)
}

func (e *serverlessEnv) searchSeries(metric, search, stat string, pts ...awstest.Point) {
	expr := `SUM(SEARCH('{AWS/Redshift-Serverless,` + search + `} MetricName="` + metric + `" Workgroup="dpc-learning"', '` + stat + `', 60))`
	e.fake.SetSeries(awstest.ExpressionKey(expr), pts...)
}

// busy has someone else run queries a minute ago: more than dpcops sends.
func (e *serverlessEnv) busy() {
	e.searchSeries("QueriesSucceeded", "QueryType,Workgroup", "Sum", e.at(time.Minute, 500))
}

func (e *serverlessEnv) at(ago time.Duration, v float64) awstest.Point {
	return awstest.Point{Time: e.now.Add(-ago), Value: v}
}

func (e *serverlessEnv) cycle() *collect.Result {
	e.t.Helper()
	r, err := e.c.Cycle(e.ctx, true)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func TestServerlessReadsCloudWatchAndStepFunctions(t *testing.T) {
	e := newServerless(t)
	e.series("ComputeCapacity", "Average", e.dims, e.at(3*time.Minute, 8), e.at(2*time.Minute, 16), e.at(time.Minute, 32))
	e.series("ComputeSeconds", "Sum", e.dims, e.at(10*time.Minute, 480), e.at(2*time.Minute, 960), e.at(time.Minute, 1920))
	e.series("DataStorage", "Average", map[string]string{"Namespace": "dpc-learning"}, e.at(5*time.Minute, 943718.4))
	e.searchSeries("QueriesFailed", "QueryType,Workgroup", "Sum", e.at(2*time.Minute, 2), e.at(time.Minute, 3))
	e.searchSeries("QueriesSucceeded", "QueryType,Workgroup", "Sum", e.at(2*time.Minute, 40), e.at(time.Minute, 55))
	stop := e.now.Add(-95 * time.Minute)
	e.fake.SetExecutions(e.arn, awstest.Execution{ARN: e.arn + ":r1", Name: "r1", Status: "SUCCEEDED", Start: stop.Add(-time.Hour), Stop: &stop})
	r := e.cycle()
	got := map[string][]float64{}
	for _, rd := range r.Readings {
		if rd.Dimensions.Canonical() == "Workgroup=dpc-learning" || rd.Dimensions.Canonical() == "Namespace=dpc-learning" || rd.Dimensions.Canonical() == "Environment=prod" {
			got[rd.Metric] = append(got[rd.Metric], rd.Value)
		}
	}
	if v := got["ComputeCapacity"]; len(v) != 3 || v[2] != 32 {
		t.Errorf("ComputeCapacity %v", v)
	}
	if v := got["QueriesFailed"]; len(v) != 2 || v[1] != 3 {
		t.Errorf("QueriesFailed %v", v)
	}
	if v := got["ELTExecutionDelay"]; len(v) != 1 || v[0] != 95 {
		t.Errorf("ELTExecutionDelay %v, want 95 minutes since the last SUCCEEDED execution", v)
	}
	// Idle share over the metric's 5 minutes: 2 busy minutes of 5.
	if v := got["IdlePercent"]; len(v) != 1 || v[0] != 60 {
		t.Errorf("IdlePercent %v, want 60", v)
	}
	// The workgroup is busy, so the SQL metrics were read, without a wake-up.
	if r.Wakeup || r.Statements == 0 {
		t.Errorf("busy workgroup: wakeup %v, statements %d", r.Wakeup, r.Statements)
	}
	if v := got["CopyErrorCount"]; len(v) != 1 {
		t.Errorf("CopyErrorCount %v (skips %v)", v, r.Skipped)
	}
	if v := got["table_skew_percent"]; len(v) != 1 || v[0] != 35 {
		t.Errorf("table_skew_percent %v, want the worst table's 35", v)
	}
	// The per-minute RPU: each finished minute of SYS_SERVERLESS_USAGE
	// at its own time, 8 RPU then idle.
	if v := got["RPUPerMinute"]; len(v) != 2 || v[0] != 8 || v[1] != 0 {
		t.Errorf("RPUPerMinute %v, want [8 0]", v)
	}
}

// TestPerMinuteRPUIsReadOnlyWhileBusy: when the per-minute RPU is the only
// SQL due, an idle workgroup is left asleep, even after
// idle_sql_interval; a busy one is read without a wake-up.
func TestPerMinuteRPUIsReadOnlyWhileBusy(t *testing.T) {
	e := newServerlessWith(t, func(s *spec.Spec) {
		var kept []spec.Metric
		for _, m := range s.Metrics {
			if m.Source == "rpu_minute" || m.Source == "compute_capacity" {
				kept = append(kept, m)
			}
		}
		s.Metrics = kept
	})
	start := e.now
	for i := 0; i < 3; i++ {
		r := e.cycle()
		if r.Statements != 0 || !strings.Contains(skipReason(r, "RPUPerMinute"), "read only while it is busy") {
			t.Fatalf("idle, cycle %d: %d statements, skip %q", i, r.Statements, skipReason(r, "RPUPerMinute"))
		}
		e.now = e.now.Add(7 * time.Hour) // past idle_sql_interval
	}
	// Busy now (the fixture's minutes are the database's last ones).
	e.now = start
	e.busy()
	r := e.cycle()
	if r.Statements == 0 || r.Wakeup {
		t.Fatalf("busy: %+v", r)
	}
	n := 0
	for _, rd := range r.Readings {
		if rd.Metric == "RPUPerMinute" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d per-minute readings from a busy workgroup, want 2", n)
	}
}

func TestWakePolicyKeepsAnIdleWorkgroupAsleep(t *testing.T) {
	e := newServerless(t)
	// Idle: no compute datapoints at all.
	first := e.cycle()
	if first.Statements == 0 || !first.Wakeup {
		t.Fatalf("the first SQL of an idle workgroup is a wake-up: %+v", first)
	}
	sent := e.stmts()
	for i := 0; i < 5; i++ {
		e.now = e.now.Add(time.Hour)
		r := e.cycle()
		if r.Statements != 0 {
			t.Fatalf("hour %d: %d statements sent to an idle workgroup", i+1, r.Statements)
		}
		if reason := skipReason(r, "CopyErrorCount"); !strings.Contains(reason, "workgroup idle: SQL deferred") {
			t.Fatalf("skip reason %q", reason)
		}
	}
	if e.stmts() != sent {
		t.Fatalf("statements went from %d to %d while idle", sent, e.stmts())
	}
	// A pipeline run that just finished lets SQL through once.
	stop := e.now.Add(-time.Minute)
	e.fake.SetExecutions(e.arn, awstest.Execution{ARN: e.arn + ":r2", Name: "r2", Status: "FAILED", Start: stop.Add(-time.Hour), Stop: &stop})
	e.now = e.now.Add(time.Minute)
	if r := e.cycle(); r.Statements == 0 {
		t.Fatal("no SQL after a pipeline run ended")
	}
	e.now = e.now.Add(time.Minute)
	if r := e.cycle(); r.Statements != 0 {
		t.Fatal("SQL again for the same pipeline run")
	}
	// After idle_sql_interval (6h) SQL may wake it once.
	e.now = e.now.Add(6 * time.Hour)
	r := e.cycle()
	if r.Statements == 0 || !r.Wakeup {
		t.Fatalf("after 6h: %+v", r)
	}
	h, _ := e.st.HealthAll(e.ctx)
	found := false
	for _, x := range h {
		if x.Collector == "warehouse" {
			found = true
			if x.Wakeups != 3 || x.Statements != e.stmts() {
				t.Errorf("warehouse health %+v, want 3 wake-ups and %d statements", x, e.stmts())
			}
		}
	}
	if !found {
		t.Errorf("no warehouse health row in %+v", h)
	}
}

func TestCloudWatchDownLeavesItsMetricsMissing(t *testing.T) {
	e := newServerless(t)
	e.fake.FailNext("GetMetricData", awstest.Failure{Status: 400, Type: "AccessDenied"})
	r := e.cycle()
	if reason := skipReason(r, "ComputeCapacity"); !strings.Contains(reason, "AccessDenied") {
		t.Errorf("skip %q", reason)
	}
	for _, rd := range r.Readings {
		if rd.Metric == "ComputeCapacity" || rd.Metric == "QueriesFailed" {
			t.Errorf("reading %+v while CloudWatch refused", rd)
		}
	}
}

// TestUsageReadFailingSpoilsOnlyTheUsageMetric: the usage period is a
// second GetMetricData call; its failure must not discard the first.
func TestUsageReadFailingSpoilsOnlyTheUsageMetric(t *testing.T) {
	e := newServerless(t)
	e.series("ComputeCapacity", "Average", e.dims, e.at(time.Minute, 16))
	e.fake.FailNext("GetMetricData", awstest.Failure{}, awstest.Failure{Status: 400, Type: "AccessDenied"})
	r := e.cycle()
	if reason := skipReason(r, "UsageLimitPercent"); !strings.Contains(reason, "AccessDenied") {
		t.Errorf("UsageLimitPercent skip %q", reason)
	}
	var capacity bool
	for _, rd := range r.Readings {
		capacity = capacity || (rd.Metric == "ComputeCapacity" && rd.Value == 16)
	}
	if !capacity {
		t.Errorf("ComputeCapacity lost with the usage read: skips %v", r.Skipped)
	}
}

func TestPublishSendsDpcopsOwnMetricsOnly(t *testing.T) {
	e := newServerless(t)
	e.s.Collect.Publish, e.s.Collect.Publisher = true, spec.PublisherServe
	e.series("ComputeCapacity", "Average", e.dims, e.at(time.Minute, 8))
	stop := e.now.Add(-10 * time.Minute)
	e.fake.SetExecutions(e.arn, awstest.Execution{ARN: e.arn + ":r", Name: "r", Status: "SUCCEEDED", Start: stop.Add(-time.Hour), Stop: &stop})
	e.cycle()
	var names []string
	for _, d := range e.fake.Put() {
		if d.Namespace != "Custom/DPC" {
			t.Errorf("published %s to %s: AWS's own metrics must not be republished", d.MetricName, d.Namespace)
		}
		names = append(names, d.MetricName)
	}
	if !slices.Contains(names, "ELTExecutionDelay") || slices.Contains(names, "ComputeCapacity") {
		t.Errorf("published %v", names)
	}
}

// TestServeBesideThePublisherFunctionPublishesNone: with collect.publisher
// lambda the module's function publishes the collector's readings and
// events; a serve with collect.publish beside it must not send them again
// (CopyErrorCount's sums would double).
func TestServeBesideThePublisherFunctionPublishesNone(t *testing.T) {
	e := newServerless(t)
	e.s.Collect.Publish, e.s.Collect.Publisher = true, spec.PublisherLambda
	e.busy()
	if r := e.cycle(); len(r.Readings) == 0 {
		t.Fatal("nothing collected")
	}
	if put := e.fake.Put(); len(put) != 0 {
		t.Errorf("serve published %d datapoints beside the function", len(put))
	}
}
