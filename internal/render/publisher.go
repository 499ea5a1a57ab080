package render

import (
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/publisher"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// The publisher's names, from the platform's.
func (r *renderer) publisherName() string { return awsName(r.s.Platform + "-dpcops-publisher") }

// lambdaRuntime is the runtime of a Go binary named bootstrap.
const lambdaRuntime = "provided.al2023"

// publisherDBRole is the database role the publisher's IAM role is
// tagged with (RedshiftDbRoles): created once with the grants the
// monitoring SQL needs (docs/terraform.md), it is the function's on every
// session, with no GRANT to its IAMR: user, which exists only after the
// first connection.
const publisherDBRole = "dpcops_monitor"

// publishing says whether the module has the publisher function.
func (r *renderer) publishing() bool { return r.s.Collect.Publisher == spec.PublisherLambda }

// planPublisher checks what the function needs of the spec and adds its
// heartbeat alarm.
func (r *renderer) planPublisher() {
	if !r.publishing() {
		if !r.s.Collect.Publish {
			r.note("collect.publisher is serve and collect.publish is false: nothing publishes the Custom/DPC metrics, so their alarms never fire.")
		}
		return
	}
	if n := r.publisherName(); len(n)+len("-scheduler") > 64 {
		r.ps.add("platform", "platform "+r.s.Platform, "the publisher's role name %s-scheduler is longer than IAM's 64 characters", n)
	}
	if r.s.Warehouse.Database == "" {
		r.ps.add("warehouse.database", "the publisher", "the publisher reads the workgroup through the Data API, which needs warehouse.database")
	}
	name := r.s.Platform + "-dpcops-publisher"
	d := &alarmDef{name: name, id: r.alarmIDs.name(name), severity: "critical", topics: r.alarmTopics(),
		description: fmt.Sprintf("The dpcops publisher function has stopped beating: the Custom/DPC metrics and error events of %s %s are not published, "+
			"so their alarms cannot fire. Check the function's log group and its schedule.", r.s.Platform, r.s.Environment),
		comparison: "LessThanThreshold", threshold: 1, period: r.publisherPeriod(), evaluations: 5, datapoints: 3,
		missing: "breaching", stat: "SampleCount", path: "collect.publisher",
		top: &series{kind: plainSeries, namespace: spec.DefaultCustomNamespace, metric: publisher.HeartbeatMetric,
			dims: []dim{{name: "Environment", value: lit(r.s.Environment)}}, specName: publisher.HeartbeatMetric, published: true}}
	if _, ok := r.s.Alarm(name); ok {
		r.ps.add(d.path, "the publisher's heartbeat alarm", "its name %s is taken by a spec alarm", name)
	}
	r.track(*d.top)
	r.alarms = append(r.alarms, d)
}

// publisherMinutes is the schedule's rate: collect.interval in whole
// minutes, at least one (EventBridge Scheduler's finest rate).
func (r *renderer) publisherMinutes() int64 {
	return max(1, int64((r.s.Collect.Interval.D()+time.Minute-1)/time.Minute))
}

// publisherPeriod is the heartbeat alarm's period: the schedule's rate.
func (r *renderer) publisherPeriod() int64 { return 60 * r.publisherMinutes() }

// writePublisher writes publisher.tf: the error log group, and with
// collect.publisher lambda the function, its roles and its schedule.
func (r *renderer) writePublisher(body *hclwrite.Body) {
	group := collect.ErrorLogGroup(r.s.Platform)
	comment(body, "Failed queries and rejected COPY rows, as JSON events, from the publisher (or serve with collect.publish); the dashboard's log widget reads it.")
	lg := body.AppendNewBlock("resource", []string{"aws_cloudwatch_log_group", "errors"}).Body()
	set(lg, "name", lit(group))
	set(lg, "retention_in_days", expr("var.log_retention_days"))
	if !r.publishing() {
		return
	}
	name := r.publisherName()
	body.AppendNewline()
	fl := body.AppendNewBlock("resource", []string{"aws_cloudwatch_log_group", "publisher"}).Body()
	set(fl, "name", lit("/aws/lambda/"+name))
	set(fl, "retention_in_days", expr("var.log_retention_days"))

	body.AppendNewline()
	comment(body, "The function's identity. Its database user is IAMR:"+name+"; the tag gives it the database role "+publisherDBRole+" (create it once, docs/terraform.md).")
	role := body.AppendNewBlock("resource", []string{"aws_iam_role", "publisher"}).Body()
	set(role, "name", lit(name))
	set(role, "assume_role_policy", assumeRole("lambda.amazonaws.com"))
	set(role, "tags", obj{{"RedshiftDbRoles", lit(publisherDBRole)}})

	body.AppendNewline()
	pol := body.AppendNewBlock("resource", []string{"aws_iam_role_policy", "publisher"}).Body()
	set(pol, "name", lit("publish"))
	set(pol, "role", expr("aws_iam_role.publisher.id"))
	set(pol, "policy", call{"jsonencode", []val{obj{{"Version", lit("2012-10-17")}, {"Statement", r.publisherStatements()}}}})

	body.AppendNewline()
	comment(body, "One cycle per invocation, which times out by the next: cycles do not pile up. No reserved concurrency: an account at Lambda's default limit could not spare it.")
	fn := body.AppendNewBlock("resource", []string{"aws_lambda_function", "publisher"}).Body()
	set(fn, "function_name", lit(name))
	set(fn, "role", expr("aws_iam_role.publisher.arn"))
	set(fn, "runtime", lit(lambdaRuntime))
	set(fn, "handler", lit("bootstrap"))
	set(fn, "architectures", list{expr("var.publisher_architecture")})
	set(fn, "filename", expr("var.publisher_zip"))
	set(fn, "source_code_hash", call{"filebase64sha256", []val{expr("var.publisher_zip")}})
	set(fn, "memory_size", num(256))
	set(fn, "timeout", num(min(900, max(30, r.publisherPeriod()))))
	lc := fn.AppendNewBlock("logging_config", nil).Body()
	set(lc, "log_format", lit("JSON"))
	set(lc, "log_group", expr("aws_cloudwatch_log_group.publisher.name"))
	set(fn, "depends_on", list{expr("aws_iam_role_policy.publisher")})

	body.AppendNewline()
	comment(body, "Scheduler invokes asynchronously: without this, Lambda would run a failed cycle twice more, and publish its sums again.")
	ic := body.AppendNewBlock("resource", []string{"aws_lambda_function_event_invoke_config", "publisher"}).Body()
	set(ic, "function_name", expr("aws_lambda_function.publisher.function_name"))
	set(ic, "maximum_retry_attempts", num(0))
	set(ic, "maximum_event_age_in_seconds", num(60))

	body.AppendNewline()
	sr := body.AppendNewBlock("resource", []string{"aws_iam_role", "publisher_scheduler"}).Body()
	set(sr, "name", lit(name+"-scheduler"))
	set(sr, "assume_role_policy", assumeRole("scheduler.amazonaws.com"))
	body.AppendNewline()
	sp := body.AppendNewBlock("resource", []string{"aws_iam_role_policy", "publisher_scheduler"}).Body()
	set(sp, "name", lit("invoke"))
	set(sp, "role", expr("aws_iam_role.publisher_scheduler.id"))
	set(sp, "policy", call{"jsonencode", []val{obj{{"Version", lit("2012-10-17")}, {"Statement", list{
		obj{{"Effect", lit("Allow")}, {"Action", lit("lambda:InvokeFunction")}, {"Resource", expr("aws_lambda_function.publisher.arn")}}}}}}})

	body.AppendNewline()
	comment(body, fmt.Sprintf("Every collect.interval (%s). A late invocation is not retried: the next one collects.", r.s.Collect.Interval))
	sc := body.AppendNewBlock("resource", []string{"aws_scheduler_schedule", "publisher"}).Body()
	set(sc, "name", lit(name))
	set(sc, "schedule_expression", lit(rate(r.publisherMinutes())))
	w := sc.AppendNewBlock("flexible_time_window", nil).Body()
	set(w, "mode", lit("OFF"))
	t := sc.AppendNewBlock("target", nil).Body()
	set(t, "arn", expr("aws_lambda_function.publisher.arn"))
	set(t, "role_arn", expr("aws_iam_role.publisher_scheduler.arn"))
	rp := t.AppendNewBlock("retry_policy", nil).Body()
	set(rp, "maximum_retry_attempts", num(0))
	set(rp, "maximum_event_age_in_seconds", num(60))
}

// publishedNamespaces are the namespaces the publisher writes: the spec's
// metrics outside AWS's own, and the heartbeat's.
func (r *renderer) publishedNamespaces() list {
	seen := []string{spec.DefaultCustomNamespace}
	for _, m := range r.s.Metrics {
		if m.Namespace != spec.ServerlessNamespace && !slices.Contains(seen, m.Namespace) {
			seen = append(seen, m.Namespace)
		}
	}
	out := make(list, len(seen))
	for i, ns := range seen {
		out[i] = lit(ns)
	}
	return out
}

// serveOnly says whether a published metric comes from a part of dpcops
// only serve runs (the lease manager, the notification worker), which the
// publisher function cannot stand in for.
func (r *renderer) serveOnly(metric string) bool {
	m, ok := r.s.Metric(metric)
	return ok && (m.Source == "capacity_lease" || m.Source == spec.SourceDeliveriesFailing)
}

func rate(minutes int64) string {
	if minutes == 1 {
		return "rate(1 minute)"
	}
	return fmt.Sprintf("rate(%d minutes)", minutes)
}

// assumeRole is a trust policy for one service principal.
func assumeRole(service string) val {
	return call{"jsonencode", []val{obj{{"Version", lit("2012-10-17")}, {"Statement", list{obj{
		{"Effect", lit("Allow")}, {"Principal", obj{{"Service", lit(service)}}}, {"Action", lit("sts:AssumeRole")}}}}}}}
}

// publisherStatements is the function's least privilege: SQL on the one
// workgroup with IAM credentials, its own statements' results, CloudWatch
// reads, Custom/DPC writes, the pipeline's executions, and the error log
// group.
func (r *renderer) publisherStatements() list {
	allow := func(sid string, actions []string, resource val, extra ...field) obj {
		as := make(list, len(actions))
		for i, a := range actions {
			as[i] = lit(a)
		}
		return append(obj{{"Sid", lit(sid)}, {"Effect", lit("Allow")}, {"Action", as}, {"Resource", resource}}, extra...)
	}
	st := list{
		allow("RunSQL", []string{"redshift-data:ExecuteStatement", "redshift-serverless:GetCredentials"}, expr("local.workgroup_arn")),
		allow("ReadOwnStatements", []string{"redshift-data:DescribeStatement", "redshift-data:GetStatementResult", "redshift-data:CancelStatement"}, lit("*"),
			field{"Condition", obj{{"StringEquals", obj{{"redshift-data:statement-owner-iam-userid", lit("${aws:userid}")}}}}}),
		allow("ReadMetrics", []string{"cloudwatch:GetMetricData"}, lit("*")),
		allow("PublishMetrics", []string{"cloudwatch:PutMetricData"}, lit("*"),
			field{"Condition", obj{{"StringEquals", obj{{"cloudwatch:namespace", r.publishedNamespaces()}}}}}),
		allow("WriteErrors", []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			list{expr("aws_cloudwatch_log_group.errors.arn"), cat(ref("aws_cloudwatch_log_group.errors.arn", ""), lit(":*"))}),
		allow("WriteOwnLog", []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			list{expr("aws_cloudwatch_log_group.publisher.arn"), cat(ref("aws_cloudwatch_log_group.publisher.arn", ""), lit(":*"))}),
	}
	if r.s.Pipeline.Kind == spec.PipelineStepFunctions && r.s.Pipeline.StateMachineARN != "" {
		st = append(st, allow("ReadPipeline", []string{"states:ListExecutions"}, lit(r.s.Pipeline.StateMachineARN)))
	}
	return st
}
