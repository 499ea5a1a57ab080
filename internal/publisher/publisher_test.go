package publisher_test

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/backend/aws/awstest"
	"github.com/dpc-learning/dpcops/internal/backend/redshift"
	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/publisher"
	"github.com/dpc-learning/dpcops/internal/spec"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

// env is the default spec's publisher against the local AWS fakes: the
// Data API runs on PostgreSQL with the Redshift fixture views.
type env struct {
	t    *testing.T
	fake *awstest.Server
	s    *spec.Spec
	p    *publisher.Publisher
	now  time.Time
	dsn  string
}

// exec runs SQL on the fixture database.
func (e *env) exec(sql string) {
	e.t.Helper()
	if _, err := pgtest.Connect(e.t, e.dsn).Exec(e.t.Context(), sql); err != nil {
		e.t.Fatal(err)
	}
}

func newEnv(t *testing.T, edit func(*spec.Spec)) *env {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.DB(t)
	pgtest.ExecFile(t, dsn, "../backend/redshift/testdata/fixture.sql")
	// No DSN: the publisher needs none.
	s, diags := spec.Default(spec.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if edit != nil {
		edit(s)
	}
	fake := awstest.New()
	t.Cleanup(fake.Close)
	fake.SetDataAPI(s.Warehouse.Workgroup, s.Warehouse.Database, dsn)
	fake.SetLogGroup(collect.ErrorLogGroup(s.Platform))
	e := &env{t: t, fake: fake, s: s, now: time.Now().UTC().Truncate(time.Minute), dsn: dsn}
	var err error
	e.p, err = publisher.Open(ctx, publisher.Options{Spec: s, Now: func() time.Time { return e.now },
		AWS: aws.Options{Region: "ap-northeast-1",
			Endpoints:   map[string]string{"cloudwatch": fake.URL, "stepfunctions": fake.URL, "logs": fake.URL, "redshift_data": fake.URL},
			Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", "")}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// busy has someone else run queries in the last minute.
func (e *env) busy() { e.queries(e.now.Add(-time.Minute), 500) }

// queries sets the workgroup's finished queries in CloudWatch.
func (e *env) queries(at time.Time, n float64) {
	e.fake.SetSeries(awstest.ExpressionKey(`SUM(SEARCH('{AWS/Redshift-Serverless,QueryType,Workgroup} MetricName="QueriesSucceeded" Workgroup="dpc-learning"', 'Sum', 60))`),
		awstest.Point{Time: at, Value: n})
}

func (e *env) published() map[string][]awstest.Datum {
	out := map[string][]awstest.Datum{}
	for _, d := range e.fake.Put() {
		if d.Namespace != "Custom/DPC" {
			e.t.Errorf("published %s to %s", d.MetricName, d.Namespace)
		}
		out[d.MetricName] = append(out[d.MetricName], d)
	}
	return out
}

// asDataAPI is a SQL file as the publisher submits it: comments dropped,
// $n named :pn.
func asDataAPI(sql string) string {
	var keep []string
	for line := range strings.SplitSeq(sql, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			keep = append(keep, line)
		}
	}
	return regexp.MustCompile(`\$([0-9]+)`).ReplaceAllString(strings.Join(keep, "\n"), ":p$1")
}

// TestPublisherEndToEnd: one invocation on a busy workgroup reads the
// collector's own SQL files through the Data API, publishes the Custom/DPC
// metrics and the heartbeat, and writes failed queries and COPY rejects as
// JSON events to the error log group.
func TestPublisherEndToEnd(t *testing.T) {
	e := newEnv(t, nil)
	e.busy()
	// A cold start reads two intervals back: the fixture's failed query
	// of 9 minutes ago is older, this one is not.
	e.exec(`INSERT INTO sys_query_history (query_id, user_id, status, start_time, end_time, error_message, query_text)
		VALUES (107, 101, 'failed', getdate() - interval '1 minute', getdate() - interval '30 seconds', 'column "x" does not exist', 'CREATE USER etl PASSWORD ''Hunter2x''; select x')`)
	sum, err := e.p.Invoke(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	stmts := e.fake.Statements()
	if len(stmts) == 0 || sum.Statements != len(stmts) {
		t.Fatalf("%d statements run, summary says %d", len(stmts), sum.Statements)
	}
	var sqls []string
	for _, st := range stmts {
		if st.Status != "FINISHED" {
			t.Errorf("statement %s: %s %s", st.SQL, st.Status, st.Error)
		}
		sqls = append(sqls, st.SQL)
	}
	for _, file := range []string{"load_errors", "tables", "rpu_minutes", "failed_events", "rejected_events"} {
		if !slices.Contains(sqls, asDataAPI(redshift.SQL(file))) {
			t.Errorf("sql/%s.sql was not run as the collector's file: %q", file, sqls)
		}
	}
	got := e.published()
	for _, m := range []string{"CopyErrorCount", "table_skew_percent", "RPUPerMinute", publisher.HeartbeatMetric} {
		if len(got[m]) == 0 {
			t.Errorf("%s not published (skipped: %v)", m, sum.Skipped)
		}
	}
	if hb := got[publisher.HeartbeatMetric]; len(hb) != 1 || hb[0].Value != 1 || hb[0].Dimensions["Environment"] != e.s.Environment {
		t.Errorf("heartbeat %+v", hb)
	}
	events := e.fake.LogEvents(collect.ErrorLogGroup(e.s.Platform))
	if len(events) != 3 || sum.Errors != 3 {
		t.Fatalf("%d events written, summary says %d: %+v", len(events), sum.Errors, events)
	}
	sources := map[string]int{}
	for _, ev := range events {
		var j map[string]any
		if err := json.Unmarshal([]byte(ev.Message), &j); err != nil {
			t.Fatalf("event %q is not JSON: %v", ev.Message, err)
		}
		sources[j["source"].(string)]++
		if ev.Stream != publisher.LogStream || j["platform"] != e.s.Platform || (j["source"] == "copy" && j["error"] != "Invalid digit, Value 'O'") {
			t.Errorf("event %+v", ev)
		}
		if j["source"] == "query" && (j["query_id"] != 107.0 || j["query"] != "CREATE USER etl PASSWORD '***'; select x") {
			t.Errorf("failed query event %s", ev.Message)
		}
	}
	if sources["query"] != 1 || sources["copy"] != 2 {
		t.Errorf("events by source %v, want 1 failed query and 2 COPY rejects", sources)
	}
	// A warm function's next invocation reports nothing twice.
	e.now = e.now.Add(time.Minute)
	if sum, err := e.p.Invoke(t.Context()); err != nil || sum.Errors != 0 {
		t.Errorf("second invocation: %+v %v", sum, err)
	}
}

// TestPublisherNeverWakesAnIdleWorkgroup: with no compute in CloudWatch
// the publisher sends no SQL at all, but still publishes what CloudWatch
// and Step Functions give and beats its heartbeat.
func TestPublisherNeverWakesAnIdleWorkgroup(t *testing.T) {
	e := newEnv(t, func(s *spec.Spec) { s.Collect.IdleSQLInterval = spec.Duration(time.Minute) })
	stop := e.now.Add(-10 * time.Minute)
	e.fake.SetExecutions(e.s.Pipeline.StateMachineARN, awstest.Execution{ARN: "x:r", Name: "r", Status: "SUCCEEDED", Start: stop.Add(-time.Hour), Stop: &stop})
	for range 3 {
		sum, err := e.p.Invoke(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if sum.Statements != 0 {
			t.Fatalf("an idle workgroup got %d statements", sum.Statements)
		}
		e.now = e.now.Add(10 * time.Minute)
	}
	if n := len(e.fake.Statements()); n != 0 {
		t.Fatalf("%d statements reached the Data API", n)
	}
	got := e.published()
	if len(got[publisher.HeartbeatMetric]) != 3 || len(got["ELTExecutionDelay"]) == 0 {
		t.Errorf("published %v", got)
	}
}

// TestPublisherCancelsStatementsPastTheirTimeout: a statement still running
// at warehouse.statement_timeout is cancelled on the server, not left to
// hold the workgroup busy, and its metric is skipped with the reason.
func TestPublisherCancelsStatementsPastTheirTimeout(t *testing.T) {
	e := newEnv(t, func(s *spec.Spec) { s.Warehouse.StatementTimeout = spec.Duration(300 * time.Millisecond) })
	e.busy()
	release := e.fake.HoldStatements()
	defer release()
	sum, err := e.p.Invoke(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range e.fake.Statements() {
		if st.Status != "ABORTED" {
			t.Errorf("statement %q left %s", st.SQL, st.Status)
		}
	}
	var reason string
	for _, sk := range sum.Skipped {
		if sk.Metric == "CopyErrorCount" {
			reason = sk.Reason
		}
	}
	if !strings.Contains(reason, "statement timeout") {
		t.Errorf("CopyErrorCount skip reason %q (skipped %v)", reason, sum.Skipped)
	}
	if len(e.published()[publisher.HeartbeatMetric]) != 1 {
		t.Error("no heartbeat after a cycle whose statements timed out")
	}
}

// TestOwnQueriesDoNotKeepTheWorkgroupAwake: the queries CloudWatch counts
// after an invocation are the publisher's own, and its compute shows in
// the 30-minute compute metrics; neither makes the workgroup busy, or the
// publisher would keep it awake for ever. Queries beyond its own do.
func TestOwnQueriesDoNotKeepTheWorkgroupAwake(t *testing.T) {
	e := newEnv(t, nil)
	e.busy()
	first, err := e.p.Invoke(t.Context())
	if err != nil || first.Statements == 0 {
		t.Fatalf("busy: %+v %v", first, err)
	}
	own := float64(first.Statements)
	sent := e.now
	e.now = e.now.Add(time.Minute)
	e.queries(sent, own)
	for _, m := range []string{"ComputeCapacity", "ComputeSeconds"} {
		e.fake.SetSeries(awstest.SeriesKey(spec.ServerlessNamespace, m, map[string]string{"Workgroup": "dpc-learning"}, map[string]string{"ComputeCapacity": "Average", "ComputeSeconds": "Sum"}[m]),
			awstest.Point{Time: sent, Value: 480})
	}
	if sum, err := e.p.Invoke(t.Context()); err != nil || sum.Statements != 0 {
		t.Fatalf("only the publisher's own queries ran: %d statements sent (%v)", sum.Statements, err)
	}
	e.now = e.now.Add(time.Minute)
	e.queries(sent, own+2)
	if sum, err := e.p.Invoke(t.Context()); err != nil || sum.Statements == 0 {
		t.Fatalf("two queries of someone else's: %+v %v", sum, err)
	}
}

// TestErrorEventsSurviveAFailedPut: CloudWatch Logs holds the publisher's
// only copy of the error events, so when it refuses them they are read
// and sent again by the next invocation, not lost.
func TestErrorEventsSurviveAFailedPut(t *testing.T) {
	e := newEnv(t, nil)
	e.busy()
	e.fake.FailNext("PutLogEvents", awstest.Failure{Status: 400, Type: "InvalidParameterException"})
	if _, err := e.p.Invoke(t.Context()); err != nil {
		t.Fatal(err)
	}
	group := collect.ErrorLogGroup(e.s.Platform)
	if n := len(e.fake.LogEvents(group)); n != 0 {
		t.Fatalf("%d events accepted by a refused put", n)
	}
	e.now = e.now.Add(time.Minute)
	e.busy()
	sum, err := e.p.Invoke(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.LogEvents(group)); n != 2 || sum.Errors != 2 {
		t.Errorf("after the refused put: %d events written (summary %d), want the fixture's 2 rejects", n, sum.Errors)
	}
}

// TestInvokeStopsBeforeLambdasDeadline: statements still running near the
// function's deadline are cancelled, and the heartbeat still goes out,
// before Lambda would freeze the process.
func TestInvokeStopsBeforeLambdasDeadline(t *testing.T) {
	// No statement timeout before the deadline: the deadline stops them.
	e := newEnv(t, func(s *spec.Spec) { s.Warehouse.StatementTimeout = spec.Duration(time.Minute) })
	e.busy()
	release := e.fake.HoldStatements()
	defer release()
	// A deadline with room for the cancels and the heartbeat after the
	// cycle's quarter of a margin, however slow the machine.
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Second)
	defer cancel()
	if _, err := e.p.Invoke(ctx); err != nil {
		t.Fatalf("invoke: %v", err)
	}
	for _, st := range e.fake.Statements() {
		if st.Status != "ABORTED" {
			t.Errorf("statement %q left %s", st.SQL, st.Status)
		}
	}
	if len(e.published()[publisher.HeartbeatMetric]) != 1 {
		t.Error("no heartbeat")
	}
}
