package render

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// variable is one input of the module.
type variable struct {
	name, typ, desc string
	// def is the default; nil makes the variable required.
	def       val
	sensitive bool
	// validation, when set, is a condition Terraform checks at plan time.
	validation *validation
}

// validation is a variable's validation block.
type validation struct {
	condition val
	message   string
}

// maintenanceTargetRE matches the targets that can run a maintenance job
// from EventBridge Scheduler's input alone: a Lambda function (optionally
// a version or alias) or a Step Functions state machine. An ECS task
// would need ecs_parameters (task definition, network) that the module
// does not render, so it is refused at plan time rather than at the first
// run.
const maintenanceTargetRE = `^arn:aws[a-z-]*:(lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?|states:[a-z0-9-]+:[0-9]{12}:stateMachine:[A-Za-z0-9_-]+)$`

// logRetentionDays are the retention_in_days values CloudWatch Logs
// accepts (0 keeps events forever).
const logRetentionDays = "0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653"

// variables lists the module's inputs. Names and capacity default to the
// spec's values; endpoints and Slack ids have no default, because they
// are per deployment and partly secret: they come from tfvars or TF_VAR_,
// never from the spec or the environment dpcops runs in.
func (r *renderer) variables() []variable {
	s := r.s
	vs := []variable{
		{name: "region", typ: "string", desc: "Region of the dashboard widgets; use the provider's region (the spec's aws.region).", def: lit(s.AWS.Region)},
		{name: "account_id", typ: "string", desc: "Account the module is meant for (the spec's aws.account_id); a check warns when the credentials are for another.", def: lit(s.AWS.AccountID)},
		{name: "workgroup_name", typ: "string", desc: "Redshift Serverless workgroup (warehouse.workgroup).", def: lit(s.Warehouse.Workgroup)},
		{name: "namespace_name", typ: "string", desc: "Redshift Serverless namespace (warehouse.namespace).", def: lit(s.Warehouse.Namespace)},
		{name: "manage_workgroup", typ: "bool", desc: "Create and own the workgroup with the capacity below (import an existing one first); false reads the existing workgroup and leaves its settings alone.", def: boolean(false)},
		{name: "base_capacity", typ: "number", desc: "Base RPU of a managed workgroup (capacity.base_rpu).", def: num(s.Capacity.BaseRPU)},
		r.maxCapacityVariable(),
		{name: "workgroup_subnet_ids", typ: "list(string)", desc: "Subnets of a managed workgroup; null keeps AWS's default.", def: expr("null")},
		{name: "workgroup_security_group_ids", typ: "list(string)", desc: "Security groups of a managed workgroup; null keeps AWS's default.", def: expr("null")},
	}
	vs = append(vs, variable{name: "log_retention_days", typ: "number", def: num(30),
		desc: "Days CloudWatch Logs keeps the error events (and the publisher's own log).",
		validation: &validation{condition: call{"contains", []val{expr("[" + logRetentionDays + "]"), expr("var.log_retention_days")}},
			message: "log_retention_days must be one CloudWatch Logs accepts: " + logRetentionDays + "."}})
	if r.publishing() {
		vs = append(vs,
			variable{name: "publisher_zip", typ: "string", desc: "Path of the publisher function's zip, written by `dpcops render lambda --out FILE` (or `make lambda`)."},
			variable{name: "publisher_architecture", typ: "string", def: lit("arm64"), desc: "Architecture of the binary in publisher_zip: arm64 or x86_64 (render lambda prints it).",
				validation: &validation{condition: call{"contains", []val{list{lit("arm64"), lit("x86_64")}, expr("var.publisher_architecture")}},
					message: "publisher_architecture must be arm64 or x86_64."}})
	}
	for _, p := range r.limits {
		vs = append(vs, variable{name: p.key, typ: "number", def: num(p.seconds),
			desc: fmt.Sprintf("Seconds after which a managed workgroup stops a query (%s; QMR rules with action abort: %s).", p.key, strings.Join(p.rules, ", "))})
	}
	if len(r.schedules) > 0 {
		vs = append(vs,
			variable{name: "maintenance_target_arn", typ: "string", desc: "ARN of the Lambda function or Step Functions state machine that runs `dpcops maintenance run --job <job>`; it receives {\"job\": \"<name>\"}.",
				validation: &validation{condition: call{"can", []val{call{"regex", []val{lit(maintenanceTargetRE), expr("var.maintenance_target_arn")}}}},
					message: "maintenance_target_arn must be a Lambda function or Step Functions state machine ARN: the schedules pass the job as input only, and an ECS task would need ecs_parameters the module does not render."}},
			variable{name: "maintenance_role_arn", typ: "string", desc: "Role EventBridge Scheduler assumes to invoke the maintenance target."})
	}
	for _, cv := range r.channelVars {
		vs = append(vs, channelVariable(cv))
	}
	return vs
}

func channelVariable(cv chanVar) variable {
	ch := cv.channel
	switch cv.suffix {
	case "integration_url":
		return variable{name: cv.name, typ: "string", sensitive: true,
			desc: fmt.Sprintf("HTTPS integration URL of %s channel %s for Amazon SNS / CloudWatch (it carries the integration key).", ch.Type, ch.Name)}
	case "addresses":
		return variable{name: cv.name, typ: "list(string)",
			desc: fmt.Sprintf("Addresses of email channel %s; each confirms the subscription from the mail SNS sends.", ch.Name)}
	case "team_id":
		return variable{name: cv.name, typ: "string",
			desc: fmt.Sprintf("Slack workspace (team) id for channel %s, after authorising the workspace in the AWS Chatbot console.", ch.Name)}
	}
	return variable{name: cv.name, typ: "string",
		desc: fmt.Sprintf("Slack channel id (not the name) for channel %s%s.", ch.Name, slackChannelHint(ch))}
}

func slackChannelHint(ch *spec.Channel) string {
	if ch.Channel == "" {
		return ""
	}
	return " (" + ch.Channel + " in the spec)"
}

func (r *renderer) writeVariables(body *hclwrite.Body) {
	for i, v := range r.variables() {
		if i > 0 {
			body.AppendNewline()
		}
		b := body.AppendNewBlock("variable", []string{v.name}).Body()
		set(b, "type", expr(v.typ))
		set(b, "description", lit(v.desc))
		if v.def != nil {
			set(b, "default", v.def)
		}
		if v.sensitive {
			set(b, "sensitive", boolean(true))
		}
		if v.validation != nil {
			vb := b.AppendNewBlock("validation", nil).Body()
			set(vb, "condition", v.validation.condition)
			set(vb, "error_message", lit(v.validation.message))
		}
	}
}

// maxCapacityVariable is the managed workgroup's max RPU: normal_max_rpu
// when capacity leases raise it for batch runs, else capacity.max_rpu.
func (r *renderer) maxCapacityVariable() variable {
	if l := r.s.Capacity.Lease; l != nil {
		return variable{name: "max_capacity", typ: "number", def: num(r.normalMaxRPU()),
			desc: fmt.Sprintf("Max RPU of a managed workgroup outside capacity leases (capacity.lease.normal_max_rpu); leases raise it to %d and lower it again, and applies leave it alone.", l.BatchMaxRPU)}
	}
	return variable{name: "max_capacity", typ: "number", desc: "Max RPU of a managed workgroup (capacity.max_rpu).", def: num(r.s.Capacity.MaxRPU)}
}
