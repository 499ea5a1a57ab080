package maintain

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/backend/aws/awstest"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// withLog sends the runner's log to buf as text.
func withLog(buf *bytes.Buffer) func(*Options) {
	return func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(buf, nil)) }
}

func TestNothingRunsWhileAPipelineRunIsOpen(t *testing.T) {
	clock := newFakeClock(t0)
	var log bytes.Buffer
	g := newRig(t, vacuumJob, withClock(clock), withLog(&log), func(o *Options) { o.Progress = 400 * time.Millisecond })
	g.ledger()
	g.table("bloated", 2000, 2)
	g.exec(`INSERT INTO ops.pipeline_runs (pipeline, status, started_at) VALUES ('dpc-elt', 'running', '2026-11-29 03:55:00+00')`)

	runs, err := g.r.Run(g.ctx, "weekly-vacuum", false)
	if err != nil {
		t.Fatal(err)
	}
	// The skip says which run held the job up, and for how long.
	want := "a pipeline run is open (pipeline dpc-elt run 1, started 2026-11-29T12:55:00+09:00); waited 1s for it to end; 1 planned statement(s) not run"
	if len(runs) != 1 || runs[0].Outcome != OutcomeSkipped || runs[0].Error != want || !runs[0].SkippedForPipeline() {
		t.Fatalf("runs %+v\nwant error %q", runs, want)
	}
	if g.stat("bloated", "vacuum_count") != 0 {
		t.Error("a VACUUM ran during the pipeline run")
	}
	if clock.Now().Sub(t0) != time.Second {
		t.Errorf("the runner waited %v of the 1s limit", clock.Now().Sub(t0))
	}
	// The log says at once what the job waits for and for how long at
	// most, then how long it has waited, every Progress.
	for _, w := range []string{
		`msg="maintenance waits for an open pipeline run to end before it starts" job=weekly-vacuum pipeline=dpc-elt run=1 started=2026-11-29T12:55:00+09:00 at_most=1s looks_every=200ms`,
		`msg="maintenance still waits for the pipeline run to end" job=weekly-vacuum pipeline=dpc-elt run=1 started=2026-11-29T12:55:00+09:00 waited=400ms left=600ms`,
		`waited=800ms left=200ms`,
	} {
		if !strings.Contains(log.String(), w) {
			t.Errorf("log lacks %s:\n%s", w, log.String())
		}
	}
	if n := strings.Count(log.String(), "still waits"); n != 2 {
		t.Errorf("%d progress lines in a 1s wait every 400ms, want 2:\n%s", n, log.String())
	}

	// A run that ends while maintenance waits lets it start.
	base := clock.sleeps
	clock.onSleep = func(n int) {
		if n == base+3 { // three polls into the wait
			g.exec(`UPDATE ops.pipeline_runs SET status = 'succeeded', finished_at = now()`)
		}
	}
	runs, err = g.r.Run(g.ctx, "weekly-vacuum", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Outcome != OutcomeSucceeded {
		t.Fatalf("after the pipeline run ended: %+v", runs)
	}
	if !strings.Contains(log.String(), `msg="the pipeline run ended; maintenance starts" job=weekly-vacuum waited=600ms`) {
		t.Errorf("log lacks the end of the wait:\n%s", log.String())
	}
}

func TestNoWaitSkipsAtOnceWhileAPipelineRunIsOpen(t *testing.T) {
	clock := newFakeClock(t0)
	g := newRig(t, vacuumJob, withClock(clock), func(o *Options) { o.PipelineWait = NoWait })
	g.ledger()
	g.table("bloated", 2000, 2)
	g.exec(`INSERT INTO ops.pipeline_runs (pipeline, status, started_at) VALUES ('dpc-elt', 'succeeded', '2026-11-28 03:00:00+00'), ('dpc-elt', 'running', '2026-11-29 03:55:00+00')`)
	runs, err := g.r.Run(g.ctx, "weekly-vacuum", false)
	if err != nil {
		t.Fatal(err)
	}
	want := "a pipeline run is open (pipeline dpc-elt run 2, started 2026-11-29T12:55:00+09:00); not waiting for it to end (wait 0); 1 planned statement(s) not run"
	if len(runs) != 1 || runs[0].Error != want || !runs[0].SkippedForPipeline() {
		t.Fatalf("runs %+v\nwant error %q", runs, want)
	}
	if clock.sleeps != 0 || g.stat("bloated", "vacuum_count") != 0 {
		t.Errorf("slept %d times, vacuumed %d times; want neither", clock.sleeps, g.stat("bloated", "vacuum_count"))
	}
	// With no run open, NoWait changes nothing.
	g.exec(`UPDATE ops.pipeline_runs SET status = 'failed', finished_at = now() WHERE status = 'running'`)
	if runs, err := g.r.Run(g.ctx, "weekly-vacuum", false); err != nil || len(runs) != 1 || runs[0].Outcome != OutcomeSucceeded {
		t.Fatalf("with no run open: %+v %v", runs, err)
	}
}

func TestAnOpenStepFunctionsExecutionIsNamed(t *testing.T) {
	srv := awstest.New()
	defer srv.Close()
	arn := "arn:aws:states:ap-northeast-1:000000000000:stateMachine:dpc-elt"
	srv.SetExecutions(arn, awstest.Execution{ARN: arn + ":nightly-1128", Name: "nightly-1128", Status: "RUNNING", Start: time.Date(2026, 11, 29, 3, 50, 0, 0, time.UTC)})
	client, err := aws.New(context.Background(), aws.Options{
		Region:      "ap-northeast-1",
		Endpoints:   map[string]string{"stepfunctions": srv.URL},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret-key-for-test", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	dsn := pgtest.DB(t)
	s := testSpec(t, dsn, vacuumJob)
	s.Pipeline = spec.Pipeline{Kind: spec.PipelineStepFunctions, Name: "dpc-elt", StateMachineARN: arn}
	clock := newFakeClock(t0)
	r, err := NewRunner(Options{Spec: s, StepFunctions: client, Now: clock.Now, Sleep: clock.Sleep, PipelineWait: NoWait})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	run, err := r.wh.openRun(context.Background())
	if err != nil || run == nil {
		t.Fatalf("open run %+v %v", run, err)
	}
	if got, want := run.describe(s.Location()), "pipeline dpc-elt run nightly-1128, started 2026-11-29T12:50:00+09:00"; got != want {
		t.Errorf("described as %q, want %q", got, want)
	}
}
