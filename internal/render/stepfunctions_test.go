package render

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/dpc-learning/dpcops/internal/spec"
)

type aslState struct {
	Type       string          `json:"Type"`
	Resource   string          `json:"Resource"`
	Parameters map[string]any  `json:"Parameters"`
	Next       string          `json:"Next"`
	End        bool            `json:"End"`
	ResultPath json.RawMessage `json:"ResultPath"`
	Retry      []struct {
		ErrorEquals []string `json:"ErrorEquals"`
	} `json:"Retry"`
	Catch []struct {
		ErrorEquals []string `json:"ErrorEquals"`
		Next        string   `json:"Next"`
	} `json:"Catch"`
	Branches []aslMachine `json:"Branches"`
}

type aslMachine struct {
	StartAt string              `json:"StartAt"`
	States  map[string]aslState `json:"States"`
}

// TestStepFunctionsWrapsDbtInALease: the fragment parses as JSON, names
// the states, raises to batch_max_rpu and lowers to normal_max_rpu with
// UpdateWorkgroup, lowers on every path out of the dbt branch, waits out a
// MODIFYING workgroup, and every transition lands on a state it defines.
func TestStepFunctionsWrapsDbtInALease(t *testing.T) {
	out, err := StepFunctions(defaultSpec(t), StepFunctionsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var m aslMachine
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if m.StartAt != StateRaise {
		t.Errorf("StartAt %q", m.StartAt)
	}
	names := []string{StateRaise, StateRunDbt, StateLower, StateLowerOnError, StateDbtFailed, StateDone}
	for _, n := range names {
		if _, ok := m.States[n]; !ok {
			t.Errorf("no state %s", n)
		}
	}
	if len(m.States) != len(names) {
		t.Errorf("states %v", m.States)
	}
	for name, rpu := range map[string]float64{StateRaise: 32, StateLower: 8, StateLowerOnError: 8} {
		st := m.States[name]
		if st.Type != "Task" || st.Resource != "arn:aws:states:::aws-sdk:redshiftserverless:updateWorkgroup" ||
			st.Parameters["WorkgroupName"] != "dpc-learning" || st.Parameters["MaxCapacity"] != rpu {
			t.Errorf("%s: %+v", name, st)
		}
		if string(st.ResultPath) != "null" {
			t.Errorf("%s must discard UpdateWorkgroup's answer (ResultPath null), not replace the input: %s", name, st.ResultPath)
		}
		if len(st.Retry) == 0 || !slices.Contains(st.Retry[0].ErrorEquals, "RedshiftServerless.ConflictException") {
			t.Errorf("%s does not wait out a MODIFYING workgroup: %+v", name, st.Retry)
		}
	}
	dbt := m.States[StateRunDbt]
	if dbt.Type != "Parallel" || len(dbt.Branches) != 1 || dbt.Next != StateLower ||
		len(dbt.Catch) != 1 || dbt.Catch[0].Next != StateLowerOnError || !slices.Contains(dbt.Catch[0].ErrorEquals, "States.ALL") {
		t.Errorf("RunDbt: %+v", dbt)
	}
	if m.States[StateLowerOnError].Next != StateDbtFailed || m.States[StateDbtFailed].Type != "Fail" {
		t.Error("a failed dbt run must lower, then fail the execution")
	}
	// Every Next and Catch target exists; every state is reachable.
	seen := map[string]bool{m.StartAt: true}
	for changed := true; changed; {
		changed = false
		for name, st := range m.States {
			if !seen[name] {
				continue
			}
			targets := []string{st.Next}
			for _, c := range st.Catch {
				targets = append(targets, c.Next)
			}
			for _, n := range targets {
				if n == "" {
					continue
				}
				if _, ok := m.States[n]; !ok {
					t.Errorf("%s goes to %s, which is not defined", name, n)
				}
				if !seen[n] {
					seen[n], changed = true, true
				}
			}
		}
	}
	if len(seen) != len(m.States) {
		t.Errorf("reachable %v of %d states", seen, len(m.States))
	}
}

func TestStepFunctionsNextAndRefusals(t *testing.T) {
	out, err := StepFunctions(defaultSpec(t), StepFunctionsOptions{Next: "PublishMart"})
	if err != nil {
		t.Fatal(err)
	}
	var m aslMachine
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if m.States[StateLower].Next != "PublishMart" || m.States[StateDone].Type != "" {
		t.Errorf("with --next the fragment goes on to the pipeline's state: %+v", m.States[StateLower])
	}
	s := defaultSpec(t)
	s.Capacity.Lease = nil
	if _, err := StepFunctions(s, StepFunctionsOptions{}); err == nil || !strings.Contains(err.Error(), "capacity.lease") {
		t.Errorf("without a lease: %v", err)
	}
	s = defaultSpec(t)
	s.Warehouse.Engine = spec.EnginePostgres
	if _, err := StepFunctions(s, StepFunctionsOptions{}); err == nil {
		t.Error("PostgreSQL has no capacity to raise")
	}
}

// TestLeaseGivesThePolicyAndKeepsApplyOffMaxCapacity: with capacity.lease
// the module has the IAM policy for UpdateWorkgroup and GetWorkgroup on
// the workgroup, a managed workgroup ignores max_capacity, and it starts
// at normal_max_rpu; without a lease none of that is there.
func TestLeaseGivesThePolicyAndKeepsApplyOffMaxCapacity(t *testing.T) {
	files, err := Terraform(defaultSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	p := parseModule(t, files)
	pol, ok := p.resources("aws_iam_policy")["capacity_lease"]
	if !ok {
		t.Fatal("no aws_iam_policy.capacity_lease")
	}
	src := string(files["capacity.tf"])
	for _, want := range []string{`"redshift-serverless:GetWorkgroup", "redshift-serverless:UpdateWorkgroup"`, "Resource = local.workgroup_arn", "ignore_changes = [max_capacity]"} {
		if !strings.Contains(src, want) {
			t.Errorf("capacity.tf lacks %s", want)
		}
	}
	if got := refs(pol.Body, "policy"); !slices.Contains(got, "local.workgroup_arn") {
		t.Errorf("policy refers to %v", got)
	}
	if !strings.Contains(string(files["outputs.tf"]), "aws_iam_policy.capacity_lease.arn") {
		t.Error("no output for the policy")
	}
	if !strings.Contains(string(files["variables.tf"]), "default     = 8") {
		t.Error("max_capacity should default to normal_max_rpu")
	}

	s := defaultSpec(t)
	s.Capacity.Lease = nil
	s.Metrics = slices.DeleteFunc(s.Metrics, func(m spec.Metric) bool { return m.Source == "capacity_lease" })
	s.Alarms = slices.DeleteFunc(s.Alarms, func(a spec.Alarm) bool { return a.Metric == "CapacityLeaseProblem" })
	files, err = Terraform(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := parseModule(t, files).resources("aws_iam_policy")["capacity_lease"]; ok || strings.Contains(string(files["capacity.tf"]), "ignore_changes") {
		t.Error("without capacity.lease the module has no lease policy and applies own max_capacity")
	}
}
