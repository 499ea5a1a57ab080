package lease_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/dpc-learning/dpcops/examples"
	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/backend/aws/awstest"
	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/lease"
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type rig struct {
	t    *testing.T
	ctx  context.Context
	fake *awstest.Server
	st   *store.Store
	m    *lease.Manager
	c    *clock
	s    *spec.Spec
}

// serverless is the default spec's lease (8 → 32 RPU, 4h, dpc-elt) over a
// fake Redshift Serverless API, with a fake clock.
func serverless(t *testing.T, runs lease.Runs, edit ...func(*spec.Spec)) *rig {
	t.Helper()
	ctx := context.Background()
	s, diags := spec.Default(spec.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, e := range edit {
		e(s)
	}
	fake := awstest.New()
	t.Cleanup(fake.Close)
	fake.SetWorkgroup("dpc-learning", awstest.WorkgroupState{Base: 8, Max: 8})
	ws := workgroups(t, fake.URL)
	st := storetest.Open(t)
	c := &clock{t: time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)}
	m, err := lease.New(lease.Options{Spec: s, Store: st, Capacity: ws, Runs: runs, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t, ctx, fake, st, m, c, s}
}

func (r *rig) updates() []int {
	var out []int
	for _, u := range r.fake.Updates() {
		out = append(out, u.MaxCapacity)
	}
	return out
}

func equal(a, b []int) bool { return slices.Equal(a, b) }

func TestRaiseExtendExpire(t *testing.T) {
	r := serverless(t, nil)
	l, did, err := r.m.Raise(r.ctx, lease.Request{Pipeline: "dpc-elt", For: 2 * time.Hour, Who: "step functions", Why: "dbt run of 2026-11"})
	if err != nil || l.RaisedTo != 32 || !strings.Contains(did, "max capacity set to 32") {
		t.Fatalf("raise: %+v %q %v", l, did, err)
	}
	// A second raise extends the open lease and changes nothing on AWS.
	r.c.t = r.c.t.Add(time.Hour)
	l2, did, err := r.m.Raise(r.ctx, lease.Request{Pipeline: "dpc-elt", For: 2 * time.Hour, Who: "step functions", Why: "retry"})
	if err != nil || l2.ID != l.ID || !l2.Expires.Equal(r.c.t.Add(2*time.Hour)) || !strings.HasPrefix(did, "extended") {
		t.Fatalf("extend: %+v %q %v", l2, did, err)
	}
	if got := r.updates(); !equal(got, []int{32}) {
		t.Fatalf("UpdateWorkgroup calls %v, want [32]", got)
	}
	// Before expiry nothing happens; at expiry the lease is lowered.
	if err := r.m.Check(r.ctx); err != nil || !equal(r.updates(), []int{32}) {
		t.Fatalf("check before expiry: %v %v", r.updates(), err)
	}
	r.c.t = l2.Expires
	if err := r.m.Check(r.ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.updates(); !equal(got, []int{32, 8}) {
		t.Fatalf("UpdateWorkgroup calls %v, want [32 8]", got)
	}
	if open, _ := r.m.Open(r.ctx); open != nil {
		t.Errorf("the lease is still open: %+v", open)
	}
	evs, _ := r.m.Events(r.ctx, l.ID)
	var names []string
	for _, e := range evs {
		names = append(names, e.Event+" by "+e.Who)
	}
	if strings.Join(names, ", ") != "raised by step functions, extended by step functions, lowered by dpcops serve" {
		t.Errorf("events: %v", names)
	}
}

func TestRaiseRefusals(t *testing.T) {
	r := serverless(t, nil)
	for _, req := range []lease.Request{
		{Pipeline: "someone-else"},
		{Pipeline: "dpc-elt", To: 64},
		{Pipeline: "dpc-elt", To: 8},
		{Pipeline: "dpc-elt", For: 5 * time.Hour},
	} {
		if _, _, err := r.m.Raise(r.ctx, req); !errors.Is(err, lease.ErrRefused) {
			t.Errorf("%+v: want a refusal, got %v", req, err)
		}
	}
	if len(r.updates()) != 0 {
		t.Errorf("a refused raise changed the workgroup: %v", r.updates())
	}
	if _, _, err := r.m.Lower(r.ctx, 0, "me", "nothing open"); err != lease.ErrNoLease {
		t.Errorf("lower with no lease: %v", err)
	}
}

// runs is a pipeline ledger in memory: the running run of each pipeline.
type runs map[string]string

func (rs runs) Current(_ context.Context, pipeline string) (string, error) { return rs[pipeline], nil }

func (rs runs) Ended(_ context.Context, pipeline, run string) (bool, string, error) {
	if rs[pipeline] == run {
		return false, "running", nil
	}
	return true, "succeeded", nil
}

// TestTwoPipelinesShareOneLease: the later end and the higher capacity
// win, and the lease does not end with the first pipeline's run while the
// second may still need the capacity.
func TestTwoPipelinesShareOneLease(t *testing.T) {
	r := serverless(t, nil)
	r.s.Capacity.Lease.Pipelines = []string{"dpc-elt", "dpc-backfill"}
	rs := runs{"dpc-elt": "elt-1", "dpc-backfill": "bf-1"}
	m, _ := lease.New(lease.Options{Spec: r.s, Store: r.st, Capacity: capacityOf(r), Runs: rs, Now: r.c.now})
	a, _, err := m.Raise(r.ctx, lease.Request{Pipeline: "dpc-elt", To: 24, For: time.Hour, Who: "a"})
	if err != nil || a.Run != "elt-1" {
		t.Fatalf("%+v %v", a, err)
	}
	b, _, err := m.Raise(r.ctx, lease.Request{Pipeline: "dpc-backfill", To: 32, For: 3 * time.Hour, Who: "b"})
	if err != nil || b.ID != a.ID || b.RaisedTo != 32 || !b.Expires.Equal(r.c.t.Add(3*time.Hour)) || !b.Shared {
		t.Fatalf("shared lease %+v vs %+v: %v", b, a, err)
	}
	if got := r.updates(); !equal(got, []int{24, 32}) {
		t.Errorf("UpdateWorkgroup calls %v", got)
	}
	delete(rs, "dpc-elt") // the first pipeline's run ends
	r.c.t = r.c.t.Add(2 * time.Hour)
	if err := m.Check(r.ctx); err != nil {
		t.Fatal(err)
	}
	if open, _ := m.Open(r.ctx); open == nil {
		t.Fatal("the shared lease closed with the first pipeline's run")
	}
	r.c.t = b.Expires
	if err := m.Check(r.ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.updates(); !equal(got, []int{24, 32, 8}) {
		t.Errorf("UpdateWorkgroup calls %v, want the lower at the later end", got)
	}
}

// TestExtendedLeaseIsNoProblemUntilItsEnd: a lease extended past
// max_duration from its start is within its limit until its new end.
func TestExtendedLeaseIsNoProblemUntilItsEnd(t *testing.T) {
	r := serverless(t, nil)
	if _, _, err := r.m.Raise(r.ctx, lease.Request{Pipeline: "dpc-elt", For: 4 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	r.c.t = r.c.t.Add(3 * time.Hour)
	l, _, err := r.m.Raise(r.ctx, lease.Request{Pipeline: "dpc-elt", For: 4 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	r.c.t = r.c.t.Add(65 * time.Minute) // 4 h 05 after the start
	if v, _ := r.m.Problem(r.ctx); v != 0 {
		t.Errorf("problem %v 4h05 into a lease extended until %s", v, l.Expires)
	}
	r.c.t = l.Expires.Add(3 * time.Minute) // not lowered (no check ran)
	if v, _ := r.m.Problem(r.ctx); v != 1 {
		t.Errorf("problem %v past the end", v)
	}
}

// TestRaiseLooksAtTheWorkgroup: a workgroup lowered by hand during a lease
// is raised again by the next raise, not taken as still raised.
func TestRaiseLooksAtTheWorkgroup(t *testing.T) {
	r := serverless(t, nil)
	if _, _, err := r.m.Raise(r.ctx, lease.Request{Pipeline: "dpc-elt", For: time.Hour}); err != nil {
		t.Fatal(err)
	}
	r.fake.SetWorkgroup("dpc-learning", awstest.WorkgroupState{Base: 8, Max: 8})
	if _, did, err := r.m.Raise(r.ctx, lease.Request{Pipeline: "dpc-elt", For: time.Hour}); err != nil || !strings.Contains(did, "set to 32") {
		t.Fatalf("raise after a hand lowered it: %q %v", did, err)
	}
	if got := r.updates(); !equal(got, []int{32, 32}) {
		t.Errorf("UpdateWorkgroup calls %v", got)
	}
}

func capacityOf(r *rig) lease.Capacity { return workgroups(r.t, r.fake.URL) }

// workgroups is a Redshift Serverless client over the fake at url, whose
// waits for a MODIFYING workgroup return at once.
func workgroups(t *testing.T, url string) *aws.Workgroups {
	t.Helper()
	ws, err := aws.NewWorkgroups(context.Background(), aws.Options{Region: "ap-northeast-1", Endpoints: map[string]string{"redshift_serverless": url},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "x", ""), MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	ws.Sleep = func(context.Context, time.Duration) error { return nil }
	return ws
}

func TestFailedLowerIsRetriedAndRaisesTheProblem(t *testing.T) {
	r := serverless(t, nil)
	l, _, err := r.m.Raise(r.ctx, lease.Request{Pipeline: "dpc-elt", For: time.Hour, Who: "sfn"})
	if err != nil {
		t.Fatal(err)
	}
	r.c.t = l.Expires
	r.fake.FailNext("UpdateWorkgroup", awstest.Failure{Status: 400, Type: "AccessDeniedException"})
	if err := r.m.Check(r.ctx); err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Fatalf("check: %v", err)
	}
	if v, _ := r.m.Problem(r.ctx); v != 1 {
		t.Errorf("a failed lower must show as a problem, got %v", v)
	}
	r.c.t = r.c.t.Add(time.Minute)
	if err := r.m.Check(r.ctx); err != nil {
		t.Fatal(err)
	}
	if v, _ := r.m.Problem(r.ctx); v != 0 {
		t.Errorf("after the retried lower: problem %v", v)
	}
	if got := r.updates(); !equal(got, []int{32, 8}) {
		t.Errorf("UpdateWorkgroup calls %v", got)
	}
}

func TestModifyingWorkgroupIsWaitedFor(t *testing.T) {
	r := serverless(t, nil)
	r.fake.SetWorkgroup("dpc-learning", awstest.WorkgroupState{Base: 8, Max: 8, Modifying: 3})
	if _, _, err := r.m.Raise(r.ctx, lease.Request{Pipeline: "dpc-elt", Who: "sfn"}); err != nil {
		t.Fatal(err)
	}
	if got := r.updates(); !equal(got, []int{32}) {
		t.Errorf("UpdateWorkgroup calls %v", got)
	}
}

func TestRaiseOutsideDpcopsIsAdoptedAndRestartLowersExpired(t *testing.T) {
	r := serverless(t, nil)
	r.fake.SetWorkgroup("dpc-learning", awstest.WorkgroupState{Base: 8, Max: 32})
	if err := r.m.Check(r.ctx); err != nil {
		t.Fatal(err)
	}
	open, _ := r.m.Open(r.ctx)
	if open == nil || open.RaisedTo != 32 || open.AskedBy != lease.Watcher {
		t.Fatalf("adopted %+v", open)
	}
	// dpcops is down past the lease's end; a new manager lowers it at
	// start-up, once.
	r.c.t = r.c.t.Add(5 * time.Hour)
	m2, _ := lease.New(lease.Options{Spec: r.s, Store: r.st, Capacity: capacityOf(r), Now: r.c.now})
	if v, _ := m2.Problem(r.ctx); v != 1 {
		t.Errorf("a lease past its limit is a problem, got %v", v)
	}
	if err := m2.Check(r.ctx); err != nil {
		t.Fatal(err)
	}
	if err := m2.Check(r.ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.updates(); !equal(got, []int{8}) {
		t.Errorf("UpdateWorkgroup calls %v, want one lower", got)
	}
}

// TestLeaseClosesWhenTheLedgerRunFinishes raises while a run is open in
// ops.pipeline_runs and checks the lease closes when the run succeeds.
func TestLeaseClosesWhenTheLedgerRunFinishes(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DB(t)
	s, diags := spec.Parse("local.yaml", examples.LocalPostgres, spec.Options{LookupEnv: func(k string) (string, bool) {
		if k == "DPCOPS_WAREHOUSE_DSN" {
			return dsn, true
		}
		return "", false
	}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	w := collect.OpenWarehouse(s)
	defer w.Close()
	if err := w.(collect.Initializer).Init(ctx); err != nil {
		t.Fatal(err)
	}
	db := pgtest.Connect(t, dsn)
	var id int64
	if err := db.QueryRow(ctx, `INSERT INTO ops.pipeline_runs (pipeline) VALUES ('dpc-elt') RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t)
	runs, err := lease.RunsFor(s, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := lease.New(lease.Options{Spec: s, Store: st, Runs: runs})
	if err != nil {
		t.Fatal(err)
	}
	l, did, err := m.Raise(ctx, lease.Request{Pipeline: "dpc-elt", For: time.Hour, Who: "cron", Why: "nightly dbt"})
	if err != nil || !strings.Contains(did, "PostgreSQL has no capacity to change") || l.Run == "" {
		t.Fatalf("raise on postgres: %+v %q %v", l, did, err)
	}
	if err := m.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if open, _ := m.Open(ctx); open == nil {
		t.Fatal("the lease closed while its run is still running")
	}
	if _, err := db.Exec(ctx, `UPDATE ops.pipeline_runs SET status = 'succeeded', finished_at = now() WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if err := m.Check(ctx); err != nil {
		t.Fatal(err)
	}
	list, _ := m.List(ctx, l.Started.Add(-time.Minute), time.Now().Add(time.Minute))
	if len(list) != 1 || list[0].Open() || !strings.Contains(list[0].CloseReason, "ended: succeeded") {
		t.Errorf("leases %+v", list)
	}
}

func TestLeaseClosesWhenTheExecutionStops(t *testing.T) {
	ctx := context.Background()
	fake, client := stepFunctions(t)
	r := serverless(t, nil)
	arn := r.s.Pipeline.StateMachineARN
	start := r.c.t.Add(-time.Minute)
	fake.SetExecutions(arn, awstest.Execution{ARN: arn + ":big-dbt", Name: "big-dbt", Status: "RUNNING", Start: start})
	runs, err := lease.RunsFor(r.s, nil, client)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := lease.New(lease.Options{Spec: r.s, Store: r.st, Capacity: capacityOf(r), Runs: runs, Now: r.c.now})
	l, _, err := m.Raise(ctx, lease.Request{Pipeline: "dpc-elt", Who: "sfn"})
	if err != nil || l.Run != arn+":big-dbt" {
		t.Fatalf("raise %+v %v", l, err)
	}
	stop := r.c.t.Add(30 * time.Minute)
	fake.SetExecutions(arn, awstest.Execution{ARN: arn + ":big-dbt", Name: "big-dbt", Status: "FAILED", Start: start, Stop: &stop})
	r.c.t = stop
	if err := m.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.updates(); !equal(got, []int{32, 8}) {
		t.Errorf("UpdateWorkgroup calls %v: a failed run must lower too", got)
	}
}

// TestPipelineThatRaisesItselfIsFollowed is the path of dpcops render
// stepfunctions: the state machine raises and lowers on its own; dpcops
// adopts the raise, ties it to the running execution, and closes it when
// the execution ends without a second UpdateWorkgroup, since the
// pipeline's lower step got there first.
func TestPipelineThatRaisesItselfIsFollowed(t *testing.T) {
	ctx := context.Background()
	fake, client := stepFunctions(t)
	r := serverless(t, nil)
	arn := r.s.Pipeline.StateMachineARN
	start := r.c.t.Add(-time.Minute)
	fake.SetExecutions(arn, awstest.Execution{ARN: arn + ":nightly", Name: "nightly", Status: "RUNNING", Start: start})
	runs, _ := lease.RunsFor(r.s, nil, client)
	m, _ := lease.New(lease.Options{Spec: r.s, Store: r.st, Capacity: capacityOf(r), Runs: runs, Now: r.c.now})
	r.fake.SetWorkgroup("dpc-learning", awstest.WorkgroupState{Base: 8, Max: 32})
	if err := m.Check(ctx); err != nil {
		t.Fatal(err)
	}
	open, _ := m.Open(ctx)
	if open == nil || open.Pipeline != "dpc-elt" || open.Run != arn+":nightly" {
		t.Fatalf("adopted %+v", open)
	}
	// The state machine's LowerCapacity state runs, then the execution ends.
	r.fake.SetWorkgroup("dpc-learning", awstest.WorkgroupState{Base: 8, Max: 8})
	stop := r.c.t.Add(40 * time.Minute)
	fake.SetExecutions(arn, awstest.Execution{ARN: arn + ":nightly", Name: "nightly", Status: "SUCCEEDED", Start: start, Stop: &stop})
	r.c.t = stop
	if err := m.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if open, _ := m.Open(ctx); open != nil {
		t.Fatalf("lease still open after the execution ended: %+v", open)
	}
	if got := r.updates(); len(got) != 0 {
		t.Errorf("UpdateWorkgroup calls %v, want none: the pipeline lowered itself", got)
	}
	evs, _ := m.Events(ctx, 1)
	if len(evs) != 2 || evs[0].Event != "adopted" || evs[1].Event != "lowered" || !strings.Contains(evs[1].Detail, "already 8 RPU") {
		t.Errorf("events %+v", evs)
	}
}

// stepFunctions is a Step Functions client over a fake.
func stepFunctions(t *testing.T) (*awstest.Server, *aws.Client) {
	t.Helper()
	fake := awstest.New()
	t.Cleanup(fake.Close)
	client, err := aws.New(context.Background(), aws.Options{Region: "ap-northeast-1", Endpoints: map[string]string{"stepfunctions": fake.URL},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "x", "")})
	if err != nil {
		t.Fatal(err)
	}
	return fake, client
}

// TestLeaseHoldsItsAlarmsBack: with capacity.lease.silence, a raise opens
// a window over the alarms the raised capacity sets off, until the lease
// ends and they have evaluated the time after it.
func TestLeaseHoldsItsAlarmsBack(t *testing.T) {
	r := serverless(t, nil, func(s *spec.Spec) { s.Capacity.Lease.Silence = []string{"Alert-RPU-Spike"} })
	l, _, err := r.m.Raise(r.ctx, lease.Request{Pipeline: "dpc-elt", For: 2 * time.Hour, Who: "step functions", Why: "dbt"})
	if err != nil {
		t.Fatal(err)
	}
	active := func() []notify.Silence {
		t.Helper()
		ss, err := notify.Silences(r.ctx, r.st.Reader(), r.c.t, true)
		if err != nil {
			t.Fatal(err)
		}
		return ss
	}
	ss := active()
	if len(ss) != 1 || ss[0].Matchers[0].Value != "Alert-RPU-Spike" || ss[0].Ends.Before(l.Expires) {
		t.Fatalf("silences while raised %+v", ss)
	}
	r.c.t = r.c.t.Add(30 * time.Minute)
	if _, _, err := r.m.Lower(r.ctx, l.ID, "step functions", "run ended"); err != nil {
		t.Fatal(err)
	}
	// RPU-Spike evaluates 5 one-minute periods: 5 minutes after the lower.
	if ss := active(); len(ss) != 1 || !ss[0].End().Equal(r.c.t.Add(5*time.Minute)) {
		t.Fatalf("silences after the lower %+v, want one ending 5m after it", ss)
	}
	r.c.t = r.c.t.Add(6 * time.Minute)
	if ss := active(); len(ss) != 0 {
		t.Errorf("the lease's window outlived its aftermath: %+v", ss)
	}
}

// TestAdoptedLeaseHoldsItsAlarmsBack: a raise made outside dpcops (the
// Step Functions states call UpdateWorkgroup themselves) is adopted, and
// opens the lease's window as a raise through dpcops does.
func TestAdoptedLeaseHoldsItsAlarmsBack(t *testing.T) {
	r := serverless(t, nil, func(s *spec.Spec) { s.Capacity.Lease.Silence = []string{"Alert-RPU-Spike"} })
	r.fake.SetWorkgroup("dpc-learning", awstest.WorkgroupState{Base: 8, Max: 32})
	if err := r.m.Check(r.ctx); err != nil {
		t.Fatal(err)
	}
	if open, _ := r.m.Open(r.ctx); open == nil {
		t.Fatal("the raise outside dpcops was not adopted")
	}
	ss, err := notify.Silences(r.ctx, r.st.Reader(), r.c.t, true)
	if err != nil || len(ss) != 1 || ss[0].Matchers[0].Value != "Alert-RPU-Spike" {
		t.Errorf("silences of the adopted lease %+v %v", ss, err)
	}
}
