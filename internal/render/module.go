package render

import (
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// Version constraints of the module. aws_chatbot_slack_channel_configuration
// arrived in the AWS provider 5.61.0; check blocks need Terraform 1.5.
const (
	terraformVersion   = ">= 1.5.0"
	awsProviderVersion = ">= 5.61.0, < 7.0.0"
)

// writeVersions writes versions.tf. The module always asks for the
// aws.chatbot configuration, Slack channel or not: a rendering that drops
// the last Slack channel must still find the provider that destroys its
// Chatbot configuration, and the caller's wiring never changes with the
// spec.
func writeVersions(body *hclwrite.Body) {
	t := body.AppendNewBlock("terraform", nil).Body()
	set(t, "required_version", lit(terraformVersion))
	p := t.AppendNewBlock("required_providers", nil).Body()
	set(p, "aws", obj{{"source", lit("hashicorp/aws")}, {"version", lit(awsProviderVersion)},
		{"configuration_aliases", list{expr(chatbotProvider)}}})
}

// writeMain writes main.tf: the check that the provider's credentials are
// for the spec's account.
func (r *renderer) writeMain(body *hclwrite.Body) {
	body.AppendNewBlock("data", []string{"aws_caller_identity", "current"})
	body.AppendNewline()
	comment(body, "A warning, not an error: plan and apply still run in another account.")
	c := body.AppendNewBlock("check", []string{"account"}).Body()
	a := c.AppendNewBlock("assert", nil).Body()
	set(a, "condition", expr("data.aws_caller_identity.current.account_id == var.account_id"))
	set(a, "error_message", lit("The AWS credentials are for another account than var.account_id (the spec's aws.account_id)."))
}

func (r *renderer) writeDashboard(body *hclwrite.Body) {
	comment(body, "The same body as `dpcops render dashboard` prints, with the module's variables in place of the spec's names.")
	b := body.AppendNewBlock("resource", []string{"aws_cloudwatch_dashboard", "this"}).Body()
	set(b, "dashboard_name", lit(r.s.Dashboard.Name))
	set(b, "dashboard_body", call{"jsonencode", []val{r.dashboard}})
}

func (r *renderer) writeOutputs(body *hclwrite.Body) {
	out := func(name, desc string, v val) {
		b := body.AppendNewBlock("output", []string{name}).Body()
		set(b, "description", lit(desc))
		set(b, "value", v)
	}
	topics := obj{}
	for _, t := range r.topics {
		topics = append(topics, field{t.name, expr("aws_sns_topic." + t.id + ".arn")})
	}
	out("topic_arns", "SNS topic ARNs by name.", topics)
	body.AppendNewline()
	alarms := obj{}
	for _, a := range r.alarms {
		alarms = append(alarms, field{a.name, expr(a.ref() + ".arn")})
	}
	out("alarm_arns", "CloudWatch alarm ARNs by name.", alarms)
	body.AppendNewline()
	out("dashboard_arn", "The CloudWatch dashboard.", expr("aws_cloudwatch_dashboard.this.dashboard_arn"))
	body.AppendNewline()
	out("workgroup_arn", "The workgroup the module watches.", expr("local.workgroup_arn"))
	body.AppendNewline()
	out("error_log_group", "The log group of failed queries and rejected COPY rows.", expr("aws_cloudwatch_log_group.errors.name"))
	if r.publishing() {
		body.AppendNewline()
		out("publisher_function_arn", "The publisher function.", expr("aws_lambda_function.publisher.arn"))
		body.AppendNewline()
		out("publisher_database_user", "The publisher's database user: give the role dpcops_monitor the monitoring grants (docs/terraform.md).", cat(lit("IAMR:"), ref("aws_iam_role.publisher.name", "")))
	}
	if r.s.Capacity.Lease != nil {
		body.AppendNewline()
		out("capacity_lease_policy_arn", "The IAM policy the capacity lease needs: attach it to dpcops' role and the state machine's role.", expr("aws_iam_policy.capacity_lease.arn"))
	}
	if r.s.Capacity.UsageLimit != nil {
		body.AppendNewline()
		out("usage_limit_id", "The compute usage limit.", expr("aws_redshiftserverless_usage_limit.compute.id"))
	}
	if len(r.schedules) > 0 {
		body.AppendNewline()
		sch := obj{}
		for _, s := range r.schedules {
			sch = append(sch, field{s.job, expr("aws_scheduler_schedule." + s.id + ".arn")})
		}
		out("schedule_arns", "Maintenance schedule ARNs by job.", sch)
	}
}
