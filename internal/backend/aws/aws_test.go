package aws_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/backend/aws/awstest"
)

func client(t *testing.T, srv *awstest.Server) *aws.Client {
	t.Helper()
	c, err := aws.New(context.Background(), aws.Options{
		Region:      "ap-northeast-1",
		Endpoints:   map[string]string{"cloudwatch": srv.URL, "stepfunctions": srv.URL},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret-key-for-test", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var t0 = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

func TestGetMetricDataOverCBOR(t *testing.T) {
	srv := awstest.New()
	defer srv.Close()
	dims := map[string]string{"Workgroup": "dpc-learning"}
	srv.SetSeries(awstest.SeriesKey("AWS/Redshift-Serverless", "ComputeCapacity", dims, "Average"),
		awstest.Point{Time: t0.Add(2 * time.Minute), Value: 16}, awstest.Point{Time: t0.Add(time.Minute), Value: 8},
		awstest.Point{Time: t0.Add(-time.Hour), Value: 99})
	failed := `SEARCH('{AWS/Redshift-Serverless,QueryType,Workgroup} MetricName="QueriesFailed" Workgroup="dpc-learning"', 'Sum', 60)`
	srv.SetSeries(awstest.ExpressionKey("SUM("+failed+")"), awstest.Point{Time: t0, Value: 3})
	c := client(t, srv)
	got, err := c.MetricData(context.Background(), []aws.MetricQuery{
		{ID: "rpu", Namespace: "AWS/Redshift-Serverless", MetricName: "ComputeCapacity", Dimensions: dims, Stat: "Average", Period: time.Minute},
		{ID: "failed", Expression: "SUM(" + failed + ")", Period: time.Minute},
		{ID: "none", Namespace: "AWS/Redshift-Serverless", MetricName: "ComputeSeconds", Dimensions: dims, Stat: "Sum", Period: time.Minute},
	}, t0, t0.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	rpu := got["rpu"]
	if len(rpu) != 2 || rpu[0].Value != 8 || rpu[1].Value != 16 || !rpu[0].Time.Equal(t0.Add(time.Minute)) {
		t.Errorf("rpu = %+v (want 2 points in range, oldest first)", rpu)
	}
	if f := got["failed"]; len(f) != 1 || f[0].Value != 3 {
		t.Errorf("failed = %+v", f)
	}
	if len(got["none"]) != 0 {
		t.Errorf("a series without data: %+v", got["none"])
	}
}

func TestThrottlingIsRetried(t *testing.T) {
	srv := awstest.New()
	defer srv.Close()
	srv.FailNext("GetMetricData", awstest.Failure{Status: 400, Type: "Throttling"}, awstest.Failure{Status: 500, Type: "InternalServiceError"})
	srv.FailNext("ListExecutions", awstest.Failure{Status: 400, Type: "ThrottlingException"})
	arn := "arn:aws:states:ap-northeast-1:000000000000:stateMachine:dpc-elt"
	stop := t0.Add(-95 * time.Minute)
	srv.SetExecutions(arn,
		awstest.Execution{ARN: arn + ":run-3", Name: "run-3", Status: "RUNNING", Start: t0.Add(-5 * time.Minute)},
		awstest.Execution{ARN: arn + ":run-2", Name: "run-2", Status: "SUCCEEDED", Start: t0.Add(-2 * time.Hour), Stop: &stop})
	c := client(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.MetricData(ctx, []aws.MetricQuery{{ID: "a", Namespace: "N", MetricName: "M", Stat: "Sum", Period: time.Minute}}, t0, t0.Add(time.Minute)); err != nil {
		t.Fatalf("after throttling and a 500: %v", err)
	}
	x, err := c.LatestExecution(ctx, arn, "SUCCEEDED")
	if err != nil {
		t.Fatal(err)
	}
	if x == nil || x.Name != "run-2" || x.Stop == nil || !x.Stop.Equal(stop) {
		t.Errorf("latest succeeded: %+v", x)
	}
	calls := 0
	for _, c := range srv.Calls() {
		if c.Operation == "ListExecutions" {
			calls++
			if c.Body.(map[string]any)["statusFilter"] != "SUCCEEDED" {
				t.Errorf("request %v", c.Body)
			}
		}
	}
	if calls != 1 {
		t.Errorf("%d ListExecutions recorded, want 1 (after one throttled)", calls)
	}
}

func TestErrorsThatCannotSucceedAreNotRetriedForever(t *testing.T) {
	srv := awstest.New()
	defer srv.Close()
	srv.FailNext("GetMetricData", awstest.Failure{Status: 400, Type: "InvalidParameterValue"})
	c := client(t, srv)
	_, err := c.MetricData(context.Background(), []aws.MetricQuery{{ID: "a", Namespace: "N", MetricName: "M", Stat: "Sum", Period: time.Minute}}, t0, t0.Add(time.Minute))
	if err == nil || !strings.Contains(err.Error(), "InvalidParameterValue") {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), "secret-key-for-test") {
		t.Error("the error holds the secret key")
	}
}

func TestPutMetricData(t *testing.T) {
	srv := awstest.New()
	defer srv.Close()
	c := client(t, srv)
	var data []aws.Datum
	for i := 0; i < 1500; i++ {
		data = append(data, aws.Datum{MetricName: "ELTExecutionDelay", Dimensions: map[string]string{"Environment": "prod"}, Unit: "None", Time: t0, Value: float64(i)})
	}
	if err := c.PutMetricData(context.Background(), "Custom/DPC", data); err != nil {
		t.Fatal(err)
	}
	put := srv.Put()
	if len(put) != 1500 || put[1499].Value != 1499 || put[0].Namespace != "Custom/DPC" || put[0].Dimensions["Environment"] != "prod" {
		t.Errorf("published %d: %+v", len(put), put[0])
	}
	n := 0
	for _, c := range srv.Calls() {
		if c.Operation == "PutMetricData" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d calls, want 2 (1000 values a call)", n)
	}
}

func TestStepFunctionsTriageAndRerun(t *testing.T) {
	srv := awstest.New()
	defer srv.Close()
	c := client(t, srv)
	ctx := context.Background()
	arn := "arn:aws:states:ap-northeast-1:000000000000:stateMachine:dpc-elt"
	stop := t0.Add(-time.Hour)
	srv.SetExecutions(arn, awstest.Execution{ARN: arn + ":run-9", Name: "run-9", Status: "FAILED", Start: t0.Add(-2 * time.Hour), Stop: &stop})
	srv.SetHistory(arn+":run-9",
		map[string]any{"type": "ExecutionFailed", "id": 9, "timestamp": float64(stop.Unix()), "executionFailedEventDetails": map[string]any{"error": "States.TaskFailed", "cause": "dbt exited 1"}},
		map[string]any{"type": "TaskFailed", "id": 8, "timestamp": float64(stop.Unix()), "taskFailedEventDetails": map[string]any{"resource": "ecs", "resourceType": "ecs", "error": "DbtError", "cause": "model mart_los_by_dpc failed"}},
		map[string]any{"type": "TaskStateEntered", "id": 7, "timestamp": float64(stop.Unix()), "stateEnteredEventDetails": map[string]any{"name": "RunDbtModels"}},
	)
	xs, err := c.Executions(ctx, arn, 10)
	if err != nil || len(xs) != 1 || xs[0].Status != "FAILED" {
		t.Fatalf("executions %+v %v", xs, err)
	}
	f, err := c.FailedStep(ctx, xs[0].ARN)
	if err != nil || f == nil || f.Step != "RunDbtModels" || f.Error != "DbtError" || f.Cause != "model mart_los_by_dpc failed" {
		t.Fatalf("failed step %+v %v", f, err)
	}
	// The capacity lease's states: dbt fails inside RunDbt, the Catch
	// lowers capacity, then DbtFailed fails the execution. The failed
	// step is dbt's, not the newest state entered.
	srv.SetExecutions(arn, awstest.Execution{ARN: arn + ":run-10", Name: "run-10", Status: "FAILED", Start: t0.Add(-2 * time.Hour), Stop: &stop})
	srv.SetHistory(arn+":run-10",
		map[string]any{"type": "ExecutionFailed", "id": 14, "timestamp": float64(stop.Unix()), "executionFailedEventDetails": map[string]any{"error": "DbtError", "cause": "model mart_los_by_dpc failed"}},
		map[string]any{"type": "FailStateEntered", "id": 13, "timestamp": float64(stop.Unix()), "stateEnteredEventDetails": map[string]any{"name": "DbtFailed"}},
		map[string]any{"type": "TaskSucceeded", "id": 12, "timestamp": float64(stop.Unix())},
		map[string]any{"type": "TaskStateEntered", "id": 11, "timestamp": float64(stop.Unix()), "stateEnteredEventDetails": map[string]any{"name": "LowerCapacityAfterFailure"}},
		map[string]any{"type": "ParallelStateFailed", "id": 10, "timestamp": float64(stop.Unix())},
		map[string]any{"type": "TaskFailed", "id": 9, "timestamp": float64(stop.Unix()), "taskFailedEventDetails": map[string]any{"resource": "ecs", "resourceType": "ecs", "error": "DbtError", "cause": "model mart_los_by_dpc failed"}},
		map[string]any{"type": "TaskStateEntered", "id": 8, "timestamp": float64(stop.Unix()), "stateEnteredEventDetails": map[string]any{"name": "DbtTask"}},
		map[string]any{"type": "TaskStateEntered", "id": 2, "timestamp": float64(stop.Unix()), "stateEnteredEventDetails": map[string]any{"name": "RaiseCapacity"}},
	)
	if f, err := c.FailedStep(ctx, arn+":run-10"); err != nil || f == nil || f.Step != "DbtTask" || f.Error != "DbtError" {
		t.Errorf("failed step behind a Catch: %+v %v", f, err)
	}
	execARN, err := c.StartExecution(ctx, arn, "dpcops-rerun-1", `{"reason":"Alert-ELT-Delay"}`)
	if err != nil || execARN != arn+":dpcops-rerun-1" {
		t.Fatalf("start %q %v", execARN, err)
	}
	if st := srv.StartedExecutions(); len(st) != 1 || st[0].Input != `{"reason":"Alert-ELT-Delay"}` {
		t.Errorf("started %+v", st)
	}
}

func TestWorkgroupCapacity(t *testing.T) {
	srv := awstest.New()
	defer srv.Close()
	srv.SetWorkgroup("dpc-learning", awstest.WorkgroupState{Base: 8, Max: 8, Modifying: 2})
	ws, err := aws.NewWorkgroups(context.Background(), aws.Options{Region: "ap-northeast-1",
		Endpoints:   map[string]string{"redshift_serverless": srv.URL},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret-key-for-test", "")})
	if err != nil {
		t.Fatal(err)
	}
	waits := 0
	ws.Sleep = func(context.Context, time.Duration) error { waits++; return nil }
	ctx := context.Background()
	g, err := ws.Get(ctx, "dpc-learning")
	if err != nil || g.Status != "MODIFYING" || g.MaxCapacity != 8 {
		t.Fatalf("get %+v %v", g, err)
	}
	g, err = ws.SetMaxCapacity(ctx, "dpc-learning", 32)
	if err != nil || g.MaxCapacity != 32 || waits != 2 {
		t.Fatalf("set %+v %v after %d waits", g, err, waits)
	}
	if u := srv.Updates(); len(u) != 1 || u[0].MaxCapacity != 32 {
		t.Errorf("updates %+v", u)
	}
	srv.FailNext("UpdateWorkgroup", awstest.Failure{Status: 400, Type: "ValidationException"})
	if _, err := ws.SetMaxCapacity(ctx, "dpc-learning", 24); err == nil || !strings.Contains(err.Error(), "ValidationException") {
		t.Errorf("a refusal: %v", err)
	}
	if _, err := ws.Get(ctx, "other"); err == nil {
		t.Error("an unknown workgroup must be an error")
	}
}
