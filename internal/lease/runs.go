package lease

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// ledgerLookback is how far back the ledger is read for a lease's run: a
// lease lasts at most a day.
const ledgerLookback = 48 * time.Hour

// LedgerRuns follows runs in ops.pipeline_runs.
type LedgerRuns struct {
	Warehouse backend.Warehouse
	Now       func() time.Time
}

func (r LedgerRuns) runs(ctx context.Context, pipeline string) ([]backend.PipelineRun, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	snap, err := r.Warehouse.Snapshot(ctx, backend.Want{PipelineRuns: true, PipelineName: pipeline, RecentSince: now().Add(-ledgerLookback)})
	if err != nil {
		return nil, err
	}
	if err := snap.Errors["pipeline_runs"]; err != nil {
		return nil, err
	}
	return snap.Runs, nil
}

// Current returns the id of the newest running run.
func (r LedgerRuns) Current(ctx context.Context, pipeline string) (string, error) {
	runs, err := r.runs(ctx, pipeline)
	if err != nil {
		return "", err
	}
	for _, run := range runs {
		if run.Status == "running" {
			return strconv.FormatInt(run.ID, 10), nil
		}
	}
	return "", nil
}

// Ended reports whether the run left status running.
func (r LedgerRuns) Ended(ctx context.Context, pipeline, id string) (bool, string, error) {
	runs, err := r.runs(ctx, pipeline)
	if err != nil {
		return false, "", err
	}
	for _, run := range runs {
		if strconv.FormatInt(run.ID, 10) == id {
			return run.Status != "running", run.Status, nil
		}
	}
	return true, "gone from the ledger", nil
}

// Executions is what StepFunctionsRuns asks of Step Functions.
type Executions interface {
	Executions(ctx context.Context, stateMachineARN string, max int32) ([]aws.Execution, error)
}

// StepFunctionsRuns follows the state machine's executions.
type StepFunctionsRuns struct {
	SFN             Executions
	StateMachineARN string
}

// Current returns the ARN of the newest RUNNING execution.
func (r StepFunctionsRuns) Current(ctx context.Context, _ string) (string, error) {
	xs, err := r.SFN.Executions(ctx, r.StateMachineARN, 20)
	if err != nil {
		return "", err
	}
	for _, x := range xs {
		if x.Status == "RUNNING" {
			return x.ARN, nil
		}
	}
	return "", nil
}

// Ended reports whether the execution stopped.
func (r StepFunctionsRuns) Ended(ctx context.Context, _, arn string) (bool, string, error) {
	xs, err := r.SFN.Executions(ctx, r.StateMachineARN, 100)
	if err != nil {
		return false, "", err
	}
	for _, x := range xs {
		if x.ARN == arn {
			return x.Status != "RUNNING", x.Status, nil
		}
	}
	return true, "no longer listed", nil
}

// RunsFor returns how to follow the spec's pipeline: the ledger or Step
// Functions; nil when neither can be read.
func RunsFor(s *spec.Spec, w backend.Warehouse, sfn Executions) (Runs, error) {
	switch {
	case s.Pipeline.Kind == spec.PipelineStepFunctions && sfn != nil:
		return StepFunctionsRuns{SFN: sfn, StateMachineARN: s.Pipeline.StateMachineARN}, nil
	case s.Pipeline.Kind == spec.PipelineLedger && w != nil:
		return LedgerRuns{Warehouse: w}, nil
	}
	return nil, errors.New("the pipeline's runs cannot be read (no warehouse.dsn for the ledger, or no AWS client for Step Functions): leases end on request or expiry only")
}
