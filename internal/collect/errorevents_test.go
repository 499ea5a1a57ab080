package collect_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend/aws/awstest"

	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/store"
)

// latest returns the stored Latest errors lines of a source.
func latest(t *testing.T, st *store.Store, source string) []store.LogLine {
	t.Helper()
	lines, err := st.LatestLogs(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.LogLine
	for _, l := range lines {
		if l.Source == source {
			out = append(out, l)
		}
	}
	return out
}

// TestCopyRejectsReachLatestErrors: rejected load rows become lines of
// the dashboard's Latest errors once each, with their file, line and
// code, on the local engine too.
func TestCopyRejectsReachLatestErrors(t *testing.T) {
	e := newEnv(t, "")
	e.exec(`INSERT INTO ops.load_errors (file_name, line_number, column_name, error_code, error_message)
		VALUES ('s3://dpc/ef/a.csv', 7, 'points', 1207, 'Invalid digit, Value ''O''')`)
	r := e.cycle()
	if len(r.Errors) != 1 || r.Errors[0].Source != collect.ErrorSourceCopy || r.Errors[0].File != "s3://dpc/ef/a.csv" || r.Errors[0].Line != 7 || r.Errors[0].Code != 1207 {
		t.Fatalf("events %+v", r.Errors)
	}
	lines := latest(t, e.st, "copy")
	if len(lines) != 1 || lines[0].Message != "Invalid digit, Value 'O'" || !strings.Contains(lines[0].Detail, "file=s3://dpc/ef/a.csv line=7 column=points code=1207") {
		t.Fatalf("Latest errors %+v", lines)
	}
	if r := e.cycle(); len(r.Errors) != 0 {
		t.Errorf("a row was reported twice: %+v", r.Errors)
	}
	e.exec(`INSERT INTO ops.load_errors (file_name, line_number, column_name, error_code, error_message)
		VALUES ('s3://dpc/ef/b.csv', 2, 'points', 1207, 'Invalid digit')`)
	if r := e.cycle(); len(r.Errors) != 1 || r.Errors[0].File != "s3://dpc/ef/b.csv" {
		t.Errorf("the next reject: %+v", r.Errors)
	}
	if n := len(latest(t, e.st, "copy")); n != 2 {
		t.Errorf("%d copy lines stored, want 2", n)
	}
}

// TestServerlessErrorEvents: on Redshift, failed queries of
// SYS_QUERY_HISTORY and rejected rows of SYS_LOAD_ERROR_DETAIL from the
// last hour become events, the query's secrets masked.
func TestServerlessErrorEvents(t *testing.T) {
	e := newServerless(t)
	e.busy()
	r := e.cycle()
	var queries, copies int
	for _, ev := range r.Errors {
		switch ev.Source {
		case collect.ErrorSourceQuery:
			queries++
			if ev.QueryID != 103 || ev.Query != "select x from nowhere" || ev.Platform != e.s.Platform || ev.Workgroup != "dpc-learning" {
				t.Errorf("failed query event %+v", ev)
			}
		case collect.ErrorSourceCopy:
			copies++
		}
	}
	// The fixture's 2-hour-old reject is older than the first read's hour.
	if queries != 1 || copies != 2 {
		t.Fatalf("%d query and %d copy events, want 1 and 2: %+v", queries, copies, r.Errors)
	}
	if n := len(latest(t, e.st, "query")); n != 1 {
		t.Errorf("%d failed-query lines stored, want 1", n)
	}
	if r := e.cycle(); len(r.Errors) != 0 {
		t.Errorf("events reported twice: %+v", r.Errors)
	}
}

func TestMaskSecrets(t *testing.T) {
	for in, want := range map[string]string{
		"CREATE USER etl PASSWORD 'Hunter2x'":                                                   "CREATE USER etl PASSWORD '***'",
		"alter user etl password 'it''s'":                                                       "alter user etl password '***'",
		"COPY t FROM 's3://b/k' CREDENTIALS 'aws_access_key_id=AK;aws_secret_access_key=SK'":    "COPY t FROM 's3://b/k' CREDENTIALS '***'",
		"COPY t FROM 's3://b/k' ACCESS_KEY_ID 'AK' SECRET_ACCESS_KEY 'SK' SESSION_TOKEN 'T'":    "COPY t FROM 's3://b/k' ACCESS_KEY_ID '***' SECRET_ACCESS_KEY '***' SESSION_TOKEN '***'",
		"select 'password' from t":                                                              "select 'password' from t",
		"COPY t FROM 's3://b/k' CREDENTIALS AS 'aws_access_key_id=AK;aws_secret_access_key=SK'": "COPY t FROM 's3://b/k' CREDENTIALS AS '***'",
		"COPY t FROM 's3://b/k' SECRET_ACCESS_KEY 'wJalrXUtnFEMI/K7MDENG":                       "COPY t FROM 's3://b/k' SECRET_ACCESS_KEY '***'",
		`ALTER USER etl PASSWORD 'ab\'cd' VALID UNTIL 'infinity'`:                               "ALTER USER etl PASSWORD '***' VALID UNTIL 'infinity'",
	} {
		if got := collect.MaskSecrets(in); got != want {
			t.Errorf("MaskSecrets(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRejectsBeyondOneReadAreReportedNext: a COPY that rejects more rows
// than one read takes, all with the load's one start time, is reported
// whole over the next cycles, each row once.
func TestRejectsBeyondOneReadAreReportedNext(t *testing.T) {
	e := newEnv(t, "")
	e.exec(`INSERT INTO ops.load_errors (start_time, file_name, line_number, column_name, error_code, error_message)
		SELECT now() - interval '1 minute', 's3://dpc/ef/big.csv', g, 'points', 1207, 'Invalid digit'
		  FROM generate_series(1, 700) g`)
	lines := map[int64]int{}
	for i := range 4 {
		r := e.cycle()
		for _, ev := range r.Errors {
			lines[ev.Line]++
		}
		if i == 0 && len(r.Errors) != 500 {
			t.Errorf("the first read reported %d rows, want the read's 500", len(r.Errors))
		}
	}
	if len(lines) != 700 {
		t.Fatalf("%d of 700 rows reported", len(lines))
	}
	for line, n := range lines {
		if n != 1 {
			t.Errorf("line %d reported %d times", line, n)
		}
	}
}

// TestLedgerRunsAreKeptForTheCharts: the runs the collector reads from
// ops.pipeline_runs are stored, and a run that finishes later is updated,
// not added again.
func TestLedgerRunsAreKeptForTheCharts(t *testing.T) {
	e := newEnv(t, "")
	e.exec(`INSERT INTO ops.pipeline_runs (pipeline, started_at, finished_at, status) VALUES ('dpc-elt', now() - interval '20 minutes', NULL, 'running')`)
	e.cycle()
	runs, err := e.st.PipelineRunsBetween(t.Context(), time.Now().Add(-time.Hour), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Status != "running" || runs[0].Finished != nil || runs[0].Pipeline != "dpc-elt" {
		t.Fatalf("runs %+v", runs)
	}
	e.exec(`UPDATE ops.pipeline_runs SET finished_at = now(), status = 'succeeded'`)
	e.cycle()
	runs, _ = e.st.PipelineRunsBetween(t.Context(), time.Now().Add(-time.Hour), time.Now().Add(time.Minute))
	if len(runs) != 1 || runs[0].Status != "succeeded" || runs[0].Finished == nil {
		t.Fatalf("after it finished: %+v", runs)
	}
}

// TestExecutionsAreKeptForTheCharts: on Step Functions the newest
// execution and the newest success are stored as runs.
func TestExecutionsAreKeptForTheCharts(t *testing.T) {
	e := newServerless(t)
	stop := e.now.Add(-30 * time.Minute)
	e.fake.SetExecutions(e.arn,
		awstest.Execution{ARN: e.arn + ":r2", Name: "r2", Status: "RUNNING", Start: e.now.Add(-10 * time.Minute)},
		awstest.Execution{ARN: e.arn + ":r1", Name: "r1", Status: "SUCCEEDED", Start: stop.Add(-time.Hour), Stop: &stop})
	e.cycle()
	runs, err := e.st.PipelineRunsBetween(e.ctx, e.now.Add(-3*time.Hour), e.now)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].ID != "r1" || runs[0].Status != "SUCCEEDED" || runs[1].ID != "r2" || runs[1].Finished != nil {
		t.Fatalf("runs %+v", runs)
	}
}
