package maintain

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// NoWait, as Options.PipelineWait, skips a job at once when a pipeline run
// is open instead of waiting for the run to end.
const NoWait time.Duration = -1

// pipelineOpen begins the error of every run skipped because a pipeline
// run was open (Run.SkippedForPipeline).
const pipelineOpen = "a pipeline run is open"

// SkippedForPipeline says whether the run was skipped because a pipeline
// run was open and did not end within the wait.
func (r Run) SkippedForPipeline() bool {
	return r.Outcome == OutcomeSkipped && strings.HasPrefix(r.Error, pipelineOpen)
}

// OpenRun is a pipeline run that has not ended.
type OpenRun struct {
	Pipeline string
	// ID is the ledger's id of the run or the Step Functions execution's
	// name; "" when unknown.
	ID string
	// Started is when the run started; nil when unknown.
	Started *time.Time
}

// describe says which run it is, with its start in loc.
func (o *OpenRun) describe(loc *time.Location) string {
	s := "pipeline " + o.Pipeline
	if o.ID != "" {
		s += " run " + o.ID
	}
	if o.Started != nil {
		return s + ", started " + o.Started.In(loc).Format(time.RFC3339)
	}
	return s + ", start unknown"
}

// logArgs are the run's slog key/value pairs.
func (o *OpenRun) logArgs(loc *time.Location) []any {
	args := []any{"pipeline", o.Pipeline, "run", o.ID}
	if o.Started != nil {
		args = append(args, "started", o.Started.In(loc).Format(time.RFC3339))
	}
	return args
}

// openRun returns the pipeline's open run, or nil when none is open, from
// the ledger or from Step Functions. The ledger's answer comes in one
// round trip: whether a run is open, and the newest runs to say which.
func (w *warehouse) openRun(ctx context.Context) (*OpenRun, error) {
	p := w.s.Pipeline
	if p.Kind == spec.PipelineStepFunctions {
		return stepFunctionsOpenRun(ctx, w.sfn, p)
	}
	sctx, cancel := context.WithTimeout(ctx, w.timeout+clientGrace)
	defer cancel()
	snap, err := w.dialect.Snapshot(sctx, backend.Want{Pipeline: true, PipelineRuns: true, PipelineName: p.Name, RecentSince: time.Unix(0, 0)})
	if err != nil {
		return nil, err
	}
	if e := snap.Errors["pipeline"]; e != nil {
		var qe *pgwire.QueryError
		if errors.As(e, &qe) && qe.Code == "42P01" {
			// No ledger: nothing records pipeline runs here.
			return nil, nil
		}
		return nil, fmt.Errorf("read the pipeline ledger: %w", e)
	}
	if !snap.Pipeline.Running {
		return nil, nil
	}
	// The runs come newest first; an open run older than the fifty newest
	// stays without an id.
	run := &OpenRun{Pipeline: p.Name}
	for _, r := range snap.Runs {
		if r.Status == "running" {
			started := r.Started
			run.ID, run.Started = strconv.FormatInt(r.ID, 10), &started
			break
		}
	}
	return run, nil
}

func stepFunctionsOpenRun(ctx context.Context, sfn StepFunctions, p spec.Pipeline) (*OpenRun, error) {
	if sfn == nil {
		return nil, errors.New("pipeline.kind is stepfunctions but there is no AWS client")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	x, err := sfn.LatestExecution(ctx, p.StateMachineARN, "RUNNING")
	if err != nil || x == nil {
		return nil, err
	}
	name := p.Name
	if name == "" {
		name = p.StateMachineARN
	}
	started := x.Start
	return &OpenRun{Pipeline: name, ID: x.Name, Started: &started}, nil
}

// waitPipeline waits while a pipeline run is open, up to PipelineWait, and
// says so in the log: what it waits for and for how long at most when it
// begins, then every Progress how long it has waited. It returns why the
// job must not start, or "".
func (x *jobRun) waitPipeline(ctx context.Context) string {
	o, loc := x.r.o, x.r.s.Location()
	start := o.Now()
	var told bool
	var said time.Time
	for {
		run, err := x.r.wh.openRun(ctx)
		now := o.Now()
		waited := now.Sub(start)
		switch {
		case err != nil:
			return "pipeline state unknown (" + err.Error() + "): maintenance does not start blind"
		case run == nil:
			if waited > 0 {
				x.r.log.Info("the pipeline run ended; maintenance starts", "job", x.j.Name, "waited", waited)
			}
			return ""
		case o.PipelineWait < 0:
			return fmt.Sprintf("%s (%s); not waiting for it to end (wait 0)", pipelineOpen, run.describe(loc))
		case waited >= o.PipelineWait:
			return fmt.Sprintf("%s (%s); waited %s for it to end", pipelineOpen, run.describe(loc), o.PipelineWait)
		case !told:
			x.r.log.Info("maintenance waits for an open pipeline run to end before it starts",
				append([]any{"job", x.j.Name}, append(run.logArgs(loc), "at_most", o.PipelineWait, "looks_every", o.Poll)...)...)
			told, said = true, now
		case now.Sub(said) >= o.Progress:
			x.r.log.Info("maintenance still waits for the pipeline run to end",
				append([]any{"job", x.j.Name}, append(run.logArgs(loc), "waited", waited, "left", o.PipelineWait-waited)...)...)
			said = now
		}
		if err := o.Sleep(ctx, min(o.Poll, o.PipelineWait-waited)); err != nil {
			return "stopped while waiting for the pipeline run to end"
		}
	}
}
