package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/dpc-learning/dpcops/examples"
	"github.com/dpc-learning/dpcops/internal/backend/aws/awstest"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
)

// TestCapacityLeaseOnPostgres: raise and lower record the lease and say
// plainly that PostgreSQL has no capacity to change; refusals are usage
// errors; a second lower succeeds with nothing to do; leases lists who
// did what.
func TestCapacityLeaseOnPostgres(t *testing.T) {
	dsn := pgtest.DB(t)
	ctx := context.Background()
	spec, data := "../../examples/local-postgres.yaml", t.TempDir()
	if r := runWithDSN(t, dsn, "warehouse", "init", "-c", spec); r.code != 0 {
		t.Fatal(r)
	}
	db := pgtest.Connect(t, dsn)
	if _, err := db.Exec(ctx, `INSERT INTO ops.pipeline_runs (pipeline) VALUES ('dpc-elt')`); err != nil {
		t.Fatal(err)
	}

	r := runWithDSN(t, dsn, "capacity", "raise", "-c", spec, "--data", data, "--pipeline", "dpc-elt", "--for", "2h", "--by", "sfn", "--reason", "nightly dbt", "--format", "json")
	var got leaseResult
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &got) != nil {
		t.Fatalf("raise: %+v", r)
	}
	if got.Lease.ID == 0 || got.Lease.RaisedTo != 32 || got.Lease.Run == "" || got.Lease.Expires.Sub(got.Lease.Started).Hours() != 2 ||
		!strings.Contains(got.Did, "PostgreSQL has no capacity to change") {
		t.Errorf("raise: %+v", got)
	}
	for _, bad := range [][]string{{"--pipeline", "dpc-backfill"}, {"--pipeline", "dpc-elt", "--to", "64"}, {"--pipeline", "dpc-elt", "--for", "5h"}, {}} {
		args := append([]string{"capacity", "raise", "-c", spec, "--data", data}, bad...)
		if r := runWithDSN(t, dsn, args...); r.code != exitUsage || r.stderr == "" {
			t.Errorf("raise %v: want a usage error, got %+v", bad, r)
		}
	}
	if r := runWithDSN(t, dsn, "capacity", "lower", "-c", spec, "--data", data, "--by", "oncall"); r.code != 0 || !strings.HasPrefix(r.stdout, "lease 1 closed") {
		t.Errorf("lower: %+v", r)
	}
	if r := runWithDSN(t, dsn, "capacity", "lower", "-c", spec, "--data", data); r.code != 0 || r.stdout != "no open capacity lease: nothing to lower\n" {
		t.Errorf("second lower: %+v", r)
	}
	r = runWithDSN(t, dsn, "capacity", "leases", "-c", spec, "--data", data, "--format", "json")
	var list []leaseWithEvents
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &list) != nil {
		t.Fatalf("leases: %+v", r)
	}
	if len(list) != 1 || list[0].Open() || len(list[0].Events) != 2 ||
		list[0].Events[0].Who != "sfn" || list[0].Events[1].Who != "oncall" || list[0].Events[1].Event != "lowered" {
		t.Errorf("leases: %+v", list)
	}
	if r := runWithDSN(t, dsn, "capacity", "leases", "-c", spec, "--data", data); r.code != 0 || !strings.Contains(r.stdout, "lease 1") || !strings.Contains(r.stdout, "nightly dbt") {
		t.Errorf("leases text: %+v", r)
	}
}

// TestCapacityLeaseOnServerless runs raise, extend and lower against a
// local server that speaks the Redshift Serverless API, with a throttled
// first UpdateWorkgroup and a refused one.
func TestCapacityLeaseOnServerless(t *testing.T) {
	fake := awstest.New()
	defer fake.Close()
	fake.SetWorkgroup("dpc-learning", awstest.WorkgroupState{Base: 8, Max: 8})
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	y := strings.Replace(string(examples.DPCLearning), "  account_id: \"000000000000\"\n",
		"  account_id: \"000000000000\"\n  endpoints:\n    redshift_serverless: "+fake.URL+"\n    stepfunctions: "+fake.URL+"\n    cloudwatch: "+fake.URL+"\n", 1)
	spec, data := writeFile(t, "dpcops.yaml", y), t.TempDir()
	capacity := func(args ...string) result {
		t.Helper()
		var out, errb bytes.Buffer
		code := mainWithEnv(context.Background(), append([]string{"capacity", "-c", spec, "--data", data}, args...),
			IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, "v-test", func(string) (string, bool) { return "", false })
		return result{code, out.String(), errb.String()}
	}
	maxes := func() []int {
		var out []int
		for _, u := range fake.Updates() {
			out = append(out, u.MaxCapacity)
		}
		return out
	}

	fake.FailNext("UpdateWorkgroup", awstest.Failure{Status: 400, Type: "ThrottlingException"})
	if r := capacity("raise", "--pipeline", "dpc-elt", "--for", "1h"); r.code != 0 || !strings.Contains(r.stdout, "workgroup dpc-learning max capacity set to 32 RPU") {
		t.Fatalf("raise: %+v", r)
	}
	if r := capacity("raise", "--pipeline", "dpc-elt", "--for", "3h"); r.code != 0 || !strings.Contains(r.stdout, "extended the open lease; max capacity already 32 RPU") {
		t.Fatalf("second raise: %+v", r)
	}
	fake.FailNext("UpdateWorkgroup", awstest.Failure{Status: 400, Type: "AccessDeniedException"})
	if r := capacity("lower"); r.code != exitFail || !strings.Contains(r.stderr, "AccessDeniedException") {
		t.Fatalf("refused lower: %+v", r)
	}
	if r := capacity("lower", "--lease", "1"); r.code != 0 || !strings.Contains(r.stdout, "max capacity set to 8 RPU") {
		t.Fatalf("lower: %+v", r)
	}
	if got := maxes(); len(got) != 2 || got[0] != 32 || got[1] != 8 {
		t.Errorf("UpdateWorkgroup calls %v, want [32 8]: one raise, no stacking, one lower", got)
	}
	if w := fake.Workgroup("dpc-learning"); w.Max != 8 {
		t.Errorf("workgroup left at %d RPU", w.Max)
	}
	r := capacity("leases")
	for _, want := range []string{"raised", "extended", "lower failed", "lowered"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("leases lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestRecoverCancelQuery cancels a running query on a real PostgreSQL by
// its pid; an ID that is not running is an error and sends nothing.
func TestRecoverCancelQuery(t *testing.T) {
	dsn := pgtest.DB(t)
	ctx := context.Background()
	spec, data := "../../examples/local-postgres.yaml", t.TempDir()
	db := pgtest.Connect(t, dsn)
	var pid int64
	if err := db.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := db.Exec(ctx, `SELECT pg_sleep(60) /* runaway */`)
		done <- err
	}()
	// Wait until the sleep shows as active (a poll on the server's state,
	// not a timed sleep).
	watch := pgtest.Connect(t, dsn)
	for {
		var n int
		if err := watch.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`, pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
	}
	if r := runWithDSN(t, dsn, "recover", "cancel-query", "999999", "--yes", "-c", spec, "--data", data); r.code != exitFail || !strings.Contains(r.stderr, "no such running query") {
		t.Errorf("unknown id: %+v", r)
	}
	if r := runWithDSN(t, dsn, "recover", "cancel-query", "x", "--yes", "-c", spec, "--data", data); r.code != exitUsage {
		t.Errorf("bad id: %+v", r)
	}
	r := runWithDSN(t, dsn, "recover", "cancel-query", strconv.FormatInt(pid, 10), "--yes", "-c", spec, "--data", data)
	if r.code != 0 || !strings.Contains(r.stdout, "cancelled query") || !strings.Contains(r.stdout, "runaway") {
		t.Fatalf("cancel: %+v", r)
	}
	if err := <-done; err == nil || !strings.Contains(err.Error(), "canceling statement due to user request") {
		t.Errorf("the query was not cancelled: %v", err)
	}
}
