package render

import (
	"errors"
	"fmt"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// States of the capacity lease's Step Functions fragment.
const (
	StateRaise        = "RaiseCapacity"
	StateRunDbt       = "RunDbt"
	StateDbtTask      = "DbtTask"
	StateLower        = "LowerCapacity"
	StateLowerOnError = "LowerCapacityAfterFailure"
	StateDbtFailed    = "DbtFailed"
	StateDone         = "Done"
)

// updateWorkgroup is the Step Functions AWS SDK integration of
// redshift-serverless UpdateWorkgroup.
const updateWorkgroup = "arn:aws:states:::aws-sdk:redshiftserverless:updateWorkgroup"

// updateWorkgroupRetryable are the errors the Redshift Serverless API
// model (2021-04-21) lists for UpdateWorkgroup that are worth a retry with
// backoff: a fault on AWS's side, or capacity that may free up. The others
// it lists (ResourceNotFound, Validation, Ipv6CidrBlockNotFound) fail the
// same way every time, and Conflict has its own retrier.
var updateWorkgroupRetryable = []string{"InternalServerException", "InsufficientCapacityException"}

// sdkError returns the name Step Functions gives a modeled Redshift
// Serverless error: an AWS SDK integration's error is the service name and
// the modeled error name, both in PascalCase.
func sdkError(name string) string { return "RedshiftServerless." + name }

func mapStrings(ss []string, fn func(string) string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fn(s)
	}
	return out
}

// StepFunctionsOptions shape the fragment.
type StepFunctionsOptions struct {
	// Next is the state the fragment goes on to after a successful run;
	// empty ends it in a Succeed state.
	Next string
}

// StepFunctions returns the Amazon States Language of the capacity lease
// around a dbt task: RaiseCapacity (UpdateWorkgroup to batch_max_rpu),
// RunDbt (a Parallel whose one branch holds the team's dbt task, so that
// a Catch covers it whatever it is), LowerCapacity back to normal_max_rpu,
// and on any failure LowerCapacityAfterFailure then a Fail state that
// keeps the dbt error. It is a whole state machine definition, valid as it
// is (the dbt task is a Pass placeholder), whose states paste into the
// pipeline's own.
func StepFunctions(s *spec.Spec, o StepFunctionsOptions) ([]byte, error) {
	l := s.Capacity.Lease
	if s.Warehouse.Engine != spec.EngineRedshiftServerless {
		return nil, fmt.Errorf("render stepfunctions: warehouse.engine is %s; only a Redshift Serverless workgroup has a max capacity to raise", s.Warehouse.Engine)
	}
	if l == nil {
		return nil, errors.New("render stepfunctions: the spec has no capacity.lease")
	}
	wg := s.Warehouse.Workgroup
	after := o.Next
	if after == "" {
		after = StateDone
	}
	// UpdateWorkgroup answers ConflictException while the workgroup is
	// MODIFYING: wait and try again, as dpcops does. The other retrier
	// takes the transient errors the API model lists for UpdateWorkgroup
	// (updateWorkgroupRetryable); an error it does not model, such as
	// ThrottlingException, never reaches a state machine under that name.
	retry := list{
		obj{
			{"ErrorEquals", list{lit(sdkError("ConflictException"))}},
			{"IntervalSeconds", num(15)}, {"MaxAttempts", num(20)}, {"BackoffRate", num(1.5)}, {"MaxDelaySeconds", num(60)},
		},
		obj{
			{"ErrorEquals", strings2list(mapStrings(updateWorkgroupRetryable, sdkError))},
			{"IntervalSeconds", num(2)}, {"MaxAttempts", num(6)}, {"BackoffRate", num(2)}, {"JitterStrategy", lit("FULL")},
		},
	}
	update := func(comment string, rpu int, next string, catch list) obj {
		st := obj{
			{"Type", lit("Task")},
			{"Comment", lit(comment)},
			{"Resource", lit(updateWorkgroup)},
			{"Parameters", obj{{"WorkgroupName", lit(wg)}, {"MaxCapacity", num(rpu)}}},
			{"ResultPath", expr("null")},
			{"Retry", retry},
		}
		if catch != nil {
			st = append(st, field{"Catch", catch})
		}
		return append(st, field{"Next", lit(next)})
	}
	catchAll := func(path, next string) list {
		return list{obj{{"ErrorEquals", list{lit("States.ALL")}}, {"ResultPath", lit(path)}, {"Next", lit(next)}}}
	}
	states := obj{
		{StateRaise, update(fmt.Sprintf("Capacity lease: raise %s to %d RPU for the dbt run. If the raise fails, dbt still runs, at %d RPU.", wg, l.BatchMaxRPU, l.NormalMaxRPU),
			l.BatchMaxRPU, StateRunDbt, catchAll("$.capacityRaiseError", StateRunDbt))},
		{StateRunDbt, obj{
			{"Type", lit("Parallel")},
			{"Comment", lit("Put the dbt task (or tasks) in this branch: the Catch lowers capacity whatever fails in it.")},
			{"Branches", list{obj{
				{"StartAt", lit(StateDbtTask)},
				{"States", obj{{StateDbtTask, obj{
					{"Type", lit("Pass")},
					{"Comment", lit("Replace with the dbt task, e.g. an ecs:runTask.sync running `dbt build`.")},
					{"End", boolean(true)},
				}}}},
			}}},
			{"ResultPath", expr("null")},
			{"Catch", catchAll("$.dbtError", StateLowerOnError)},
			{"Next", lit(StateLower)},
		}},
		{StateLower, update(fmt.Sprintf("Capacity lease: lower %s back to %d RPU. If this fails, dpcops serve lowers it when the execution ends and Alert-Capacity-Lease fires.", wg, l.NormalMaxRPU),
			l.NormalMaxRPU, after, catchAll("$.capacityLowerError", after))},
		{StateLowerOnError, update(fmt.Sprintf("dbt failed: lower %s back to %d RPU before failing the execution.", wg, l.NormalMaxRPU),
			l.NormalMaxRPU, StateDbtFailed, catchAll("$.capacityLowerError", StateDbtFailed))},
		{StateDbtFailed, obj{
			{"Type", lit("Fail")},
			{"Comment", lit("The execution fails with dbt's own error, so the pipeline's alarms see it.")},
			{"ErrorPath", lit("$.dbtError.Error")},
			{"CausePath", lit("$.dbtError.Cause")},
		}},
	}
	if o.Next == "" {
		states = append(states, field{StateDone, obj{{"Type", lit("Succeed")}}})
	}
	def := obj{
		{"Comment", lit(fmt.Sprintf("dpcops capacity lease for %s: %d RPU during the dbt run, %d RPU otherwise. Rendered by `dpcops render stepfunctions` from the ops spec.", s.Platform, l.BatchMaxRPU, l.NormalMaxRPU))},
		{"StartAt", lit(StateRaise)},
		{"States", states},
	}
	j, err := toJSON(def)
	if err != nil {
		return nil, err
	}
	return marshalIndent(j)
}
