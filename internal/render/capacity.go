package render

import (
	"fmt"
	"math"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
)

// qmrParams maps a QMR rule's metric to the workgroup parameter that
// stops a query past the threshold (aws-facts §3).
var qmrParams = map[string]string{
	"execution_time": "max_query_execution_time",
	"queue_time":     "max_query_queue_time",
}

// limitParam is a workgroup query limit rendered from QMR abort rules;
// its variable is named as its key.
type limitParam struct {
	key     string
	seconds int64
	rules   []string
}

// planCapacity works out the usage limit and the workgroup's query
// limits: the smallest threshold of the abort rules on each metric.
func (r *renderer) planCapacity() {
	if u := r.s.Capacity.UsageLimit; u != nil && u.RPUHours != math.Trunc(u.RPUHours) {
		r.ps.add("capacity.usage_limit.rpu_hours", "usage limit", "AWS takes a whole number of RPU-hours, not %s", fmtNum(u.RPUHours))
	}
	for i, q := range r.s.QMR {
		if !q.Enabled.On() {
			continue
		}
		if q.Action != "abort" {
			r.note("QMR rule %s (%s) is watched by the running dpcops: a workgroup can only stop queries, and CloudWatch has no metric per running query.", q.Name, q.Action)
			continue
		}
		if len(q.ExcludeUsers) > 0 || len(q.ExcludeQueryLabels) > 0 {
			r.note("QMR rule %s aborts queries but excludes users or query labels, which a workgroup limit cannot: dpcops enforces it, the workgroup does not.", q.Name)
			continue
		}
		key := qmrParams[q.Metric]
		secs := int64(math.Ceil(q.Threshold))
		if q.Threshold != math.Trunc(q.Threshold) {
			r.ps.add(fmt.Sprintf("qmr[%d].threshold", i), "QMR rule "+q.Name, "workgroup limits are whole seconds, not %s", fmtNum(q.Threshold))
		}
		if p := r.limit(key); p != nil {
			p.seconds = min(p.seconds, secs)
			p.rules = append(p.rules, q.Name)
			continue
		}
		r.limits = append(r.limits, &limitParam{key: key, seconds: secs, rules: []string{q.Name}})
	}
}

func (r *renderer) limit(key string) *limitParam {
	for _, p := range r.limits {
		if p.key == key {
			return p
		}
	}
	return nil
}

// writeCapacity writes capacity.tf: the workgroup (managed, or read as it
// is), and the usage limit.
func (r *renderer) writeCapacity(body *hclwrite.Body) {
	comment(body, "With manage_workgroup = true the module owns the workgroup's capacity settings (import an existing one first); else it reads the workgroup as it is.")
	b := body.AppendNewBlock("resource", []string{"aws_redshiftserverless_workgroup", "this"}).Body()
	set(b, "count", expr("var.manage_workgroup ? 1 : 0"))
	set(b, "namespace_name", expr("var.namespace_name"))
	set(b, "workgroup_name", expr("var.workgroup_name"))
	set(b, "base_capacity", expr("var.base_capacity"))
	set(b, "max_capacity", expr("var.max_capacity"))
	set(b, "subnet_ids", expr("var.workgroup_subnet_ids"))
	set(b, "security_group_ids", expr("var.workgroup_security_group_ids"))
	for _, p := range r.limits {
		cp := b.AppendNewBlock("config_parameter", nil).Body()
		set(cp, "parameter_key", lit(p.key))
		set(cp, "parameter_value", call{"tostring", []val{expr("var." + p.key)}})
	}
	set(b, "tags", obj{{"ManagedBy", lit("dpcops")}})
	if r.s.Capacity.Lease != nil {
		comment(b, "The capacity lease raises max_capacity for large dbt runs and lowers it after: an apply must not undo a raise mid-run.")
		lc := b.AppendNewBlock("lifecycle", nil).Body()
		set(lc, "ignore_changes", list{expr("max_capacity")})
	}

	body.AppendNewline()
	d := body.AppendNewBlock("data", []string{"aws_redshiftserverless_workgroup", "existing"}).Body()
	set(d, "count", expr("var.manage_workgroup ? 0 : 1"))
	set(d, "workgroup_name", expr("var.workgroup_name"))

	body.AppendNewline()
	l := body.AppendNewBlock("locals", nil).Body()
	set(l, "workgroup_arn", expr("var.manage_workgroup ? aws_redshiftserverless_workgroup.this[0].arn : data.aws_redshiftserverless_workgroup.existing[0].arn"))
	r.writeLeasePolicy(body)

	u := r.s.Capacity.UsageLimit
	if u == nil {
		return
	}
	body.AppendNewline()
	comment(body, fmt.Sprintf("The seed's monthly usage limit; the alarm at %s %% is in alarms.tf.", fmtNum(u.NotifyAtPercent)))
	ul := body.AppendNewBlock("resource", []string{"aws_redshiftserverless_usage_limit", "compute"}).Body()
	set(ul, "resource_arn", expr("local.workgroup_arn"))
	set(ul, "usage_type", lit(usageLimitType))
	set(ul, "amount", num(u.RPUHours))
	set(ul, "period", lit(u.Period))
	set(ul, "breach_action", lit(u.BreachAction))
}

// normalMaxRPU is the workgroup's max capacity outside capacity leases.
func (r *renderer) normalMaxRPU() int {
	if l := r.s.Capacity.Lease; l != nil {
		return l.NormalMaxRPU
	}
	return r.s.Capacity.MaxRPU
}

// writeLeasePolicy writes the IAM policy that raising and lowering the
// capacity lease needs: dpcops' role and the state machine's role (the
// states of dpcops render stepfunctions) both attach it.
func (r *renderer) writeLeasePolicy(body *hclwrite.Body) {
	l := r.s.Capacity.Lease
	if l == nil {
		return
	}
	body.AppendNewline()
	comment(body, fmt.Sprintf("The capacity lease (%d to %d RPU for %s): attach to dpcops' role and to the state machine's role. IAM cannot bound the capacity asked for; dpcops lowers a raise it did not make after %s.",
		l.NormalMaxRPU, l.BatchMaxRPU, strings.Join(l.Pipelines, ", "), l.MaxDuration))
	b := body.AppendNewBlock("resource", []string{"aws_iam_policy", "capacity_lease"}).Body()
	set(b, "name", lit(awsName(r.s.Platform)+"-capacity-lease"))
	set(b, "description", lit("Read and change the max capacity of the workgroup for capacity leases (dpcops capacity raise/lower)."))
	set(b, "policy", call{"jsonencode", []val{obj{
		{"Version", lit("2012-10-17")},
		{"Statement", list{obj{
			{"Sid", lit("CapacityLease")},
			{"Effect", lit("Allow")},
			{"Action", list{lit("redshift-serverless:GetWorkgroup"), lit("redshift-serverless:UpdateWorkgroup")}},
			{"Resource", expr("local.workgroup_arn")},
		}}},
	}}})
	set(b, "tags", obj{{"ManagedBy", lit("dpcops")}})
}
