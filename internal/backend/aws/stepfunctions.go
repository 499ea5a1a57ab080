package aws

import (
	"context"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// Executions returns the newest executions of a state machine, of any
// status, newest first.
func (c *Client) Executions(ctx context.Context, stateMachineARN string, max int32) ([]Execution, error) {
	out, err := c.sfn.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: awssdk.String(stateMachineARN), MaxResults: max})
	if err != nil {
		return nil, fmt.Errorf("stepfunctions ListExecutions: %w", err)
	}
	var xs []Execution
	for _, e := range out.Executions {
		x := Execution{ARN: awssdk.ToString(e.ExecutionArn), Name: awssdk.ToString(e.Name), Status: string(e.Status), Start: awssdk.ToTime(e.StartDate).UTC()}
		if e.StopDate != nil {
			t := e.StopDate.UTC()
			x.Stop = &t
		}
		xs = append(xs, x)
	}
	return xs, nil
}

// Failure says where and why an execution failed.
type Failure struct {
	// Step is the state that failed.
	Step  string
	Error string
	Cause string
}

// FailedStep reads an execution's history, newest first, for the task
// that failed, the state it ran in and its error. A Catch moves on to
// other states after the failure (the capacity lease lowers capacity
// before failing the execution), so the step is the state entered just
// before the newest TaskFailed, not the newest state entered.
func (c *Client) FailedStep(ctx context.Context, executionARN string) (*Failure, error) {
	out, err := c.sfn.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{
		ExecutionArn: awssdk.String(executionARN), ReverseOrder: true, MaxResults: 100,
	})
	if err != nil {
		return nil, fmt.Errorf("stepfunctions GetExecutionHistory: %w", err)
	}
	// The task's own failure says more than the execution's, which
	// often only says States.TaskFailed.
	f := &Failure{}
	var execErr, execCause, newestEntered string
	taskFailed := false
	for _, ev := range out.Events {
		switch {
		case ev.TaskFailedEventDetails != nil:
			if !taskFailed {
				taskFailed = true
				f.Error, f.Cause = awssdk.ToString(ev.TaskFailedEventDetails.Error), awssdk.ToString(ev.TaskFailedEventDetails.Cause)
			}
		case ev.ExecutionFailedEventDetails != nil:
			if execErr == "" {
				execErr, execCause = awssdk.ToString(ev.ExecutionFailedEventDetails.Error), awssdk.ToString(ev.ExecutionFailedEventDetails.Cause)
			}
		case ev.Type == sfntypes.HistoryEventTypeTaskStateEntered && ev.StateEnteredEventDetails != nil:
			name := awssdk.ToString(ev.StateEnteredEventDetails.Name)
			if newestEntered == "" {
				newestEntered = name
			}
			if taskFailed && f.Step == "" {
				f.Step = name
			}
		}
	}
	if f.Step == "" {
		f.Step = newestEntered
	}
	if f.Error == "" {
		f.Error, f.Cause = execErr, execCause
	}
	if f.Error == "" && f.Step == "" {
		return nil, nil
	}
	return f, nil
}

// StartExecution starts the state machine and returns the execution's ARN.
func (c *Client) StartExecution(ctx context.Context, stateMachineARN, name, input string) (string, error) {
	in := &sfn.StartExecutionInput{StateMachineArn: awssdk.String(stateMachineARN), Name: awssdk.String(name)}
	if input != "" {
		in.Input = awssdk.String(input)
	}
	out, err := c.sfn.StartExecution(ctx, in)
	if err != nil {
		return "", fmt.Errorf("stepfunctions StartExecution: %w", err)
	}
	return awssdk.ToString(out.ExecutionArn), nil
}
