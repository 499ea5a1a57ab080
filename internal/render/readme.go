package render

import (
	"fmt"
	"strings"

	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/publisher"
)

// fileRoles says what each file of the module holds.
var fileRoles = map[string]string{
	"versions.tf":      "Terraform and AWS provider versions.",
	"variables.tf":     "The inputs: names, capacity, the maintenance target, and each channel's endpoint or Slack ids.",
	"main.tf":          "A check that the credentials are for the spec's account.",
	"alarms.tf":        "One `aws_cloudwatch_metric_alarm` per enabled spec alarm (and the usage limit alarm when no spec alarm watches the limit).",
	"notifications.tf": "The SNS topics, their https and email subscriptions with filter policies, and the Slack (AWS Chatbot) configurations.",
	"capacity.tf":      "The workgroup's capacity and query limits (managed, or read as it is) and the usage limit.",
	"dashboard.tf":     "The CloudWatch dashboard.",
	"maintenance.tf":   "EventBridge Scheduler schedules of the automatic maintenance jobs.",
	"windows.tf":       "The maintenance windows: schedules that disable their alarms' actions at each opening and enable them at its end.",
	"publisher.tf":     "The error log group and, with `collect.publisher: lambda`, the publisher function, its roles and its schedule.",
	"outputs.tf":       "ARNs of the topics, alarms, dashboard, workgroup, usage limit and schedules.",
	"README.md":        "This file.",
}

// readme returns the module's README: the user's steps, and every choice
// the rendering made that the user should know of.
func (r *renderer) readme(files []string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("<!-- %s from the ops spec. Do not edit: change the spec and render again. -->\n\n# modules/operations\n\n", generatedMarker)
	w("The AWS-native form of the ops spec of platform `%s` (%s): the CloudWatch dashboard and alarms, the SNS topics and subscriptions, the workgroup's capacity and usage limit, and the maintenance schedules. `dpcops render terraform --out modules/operations` wrote it; do not edit it by hand. Change the spec, render again, and commit both: `dpcops render check --dir modules/operations` fails a pull request whose module differs from what its spec renders.\n\n", oneLine(r.s.Platform), oneLine(r.s.Environment))
	r.readmeSteps(w)
	w("## Files\n\n| file | holds |\n|---|---|\n")
	files = append(files, "README.md")
	for _, f := range files {
		if role, ok := fileRoles[f]; ok {
			w("| `%s` | %s |\n", f, role)
		}
	}
	w("\n")
	r.readmeVariables(w)
	r.readmeNotifications(w)
	r.readmeMetrics(w)
	r.readmePublisher(w)
	r.readmeCapacity(w)
	r.readmeMaintenance(w)
	if notes := r.sortedNotes(); len(notes) > 0 {
		w("## Not rendered\n\n")
		for _, n := range notes {
			w("- %s\n", n)
		}
		w("\n")
	}
	return b.String()
}

func (r *renderer) readmeSteps(w func(string, ...any)) {
	w("## Use it\n\n")
	chatbot := nearestChatbotRegion(r.s.AWS.Region)
	w("1. Credentials: the AWS provider takes them as usual (`AWS_PROFILE`, `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, SSO, or the role of the CI runner) and needs rights on CloudWatch, SNS, Redshift Serverless, EventBridge Scheduler, IAM (the Chatbot role) and AWS Chatbot. The module has no provider block: the root configuration sets the region, which must be `var.region` (%s), and passes a second configuration, `aws.chatbot`, in a region that serves the AWS Chatbot API (%s; `%s` is the nearest), through which the module creates its Slack configurations.\n", codeOr(r.s.AWS.Region), strings.Join(chatbotRegions, ", "), chatbot)
	w("2. Call the module from your root configuration, with the secrets from a `*.tfvars` file kept out of git or from `TF_VAR_*` variables:\n\n")
	w("   ```hcl\n   provider \"aws\" {\n     region = %q\n   }\n\n   provider \"aws\" {\n     alias  = \"chatbot\"\n     region = %q\n   }\n\n   module \"operations\" {\n     source = \"./modules/operations\"\n     providers = {\n       aws         = aws\n       aws.chatbot = aws.chatbot\n     }\n\n", r.s.AWS.Region, chatbot)
	var inputs []string
	if r.publishing() {
		inputs = append(inputs, "publisher_zip")
	}
	if len(r.schedules) > 0 {
		inputs = append(inputs, "maintenance_target_arn", "maintenance_role_arn")
	}
	for _, cv := range r.channelVars {
		inputs = append(inputs, cv.name)
	}
	width := 0
	for _, in := range inputs {
		width = max(width, len(in))
	}
	for _, in := range inputs {
		w("     %-*s = var.%s\n", width, in, in)
	}
	w("   }\n   ```\n\n")
	if r.publishing() {
		w("   `publisher_zip` is the publisher function's zip: `make lambda` (or `dpcops render lambda --out FILE`) writes it, and prints its architecture for `publisher_architecture` (default `arm64`).\n\n")
	}
	w("3. `terraform init`, then `terraform plan` (review it: this is what the pull request changes), then `terraform apply`.\n")
	w("4. Confirm the email subscriptions from the mail SNS sends to each address; PagerDuty's and OpsGenie's endpoints confirm by themselves.\n\n")
}

func codeOr(s string) string {
	if s == "" {
		return "unset in the spec"
	}
	return "`" + s + "`"
}

func (r *renderer) readmeVariables(w func(string, ...any)) {
	w("## Variables\n\n| name | type | default | description |\n|---|---|---|---|\n")
	for _, v := range r.variables() {
		def := "required"
		if v.def != nil {
			def = "`" + strings.TrimSpace(string(v.def.hcl().Bytes())) + "`"
		}
		if v.sensitive {
			def += " (sensitive)"
		}
		w("| `%s` | `%s` | %s | %s |\n", v.name, v.typ, strings.ReplaceAll(def, "|", "\\|"), strings.ReplaceAll(v.desc, "|", "\\|"))
	}
	w("\n")
}

func (r *renderer) readmeNotifications(w func(string, ...any)) {
	w("## Notifications\n\n")
	w("Each alarm notifies its spec topics on entering ALARM (`alarm_actions`) and on returning to OK (`ok_actions`).\n\n")
	w("- **Routing per alarm.** dpcops routes with SNS-style filters over the attributes alarm, severity and state. CloudWatch's notifications to SNS carry no message attributes, so an attribute filter policy would drop every one of them. The module filters on the message body instead (`filter_policy_scope = \"MessageBody\"`): the notification is JSON with `AlarmName` and `NewStateValue`, so a filter on alarm becomes `AlarmName`, a filter on severity becomes the names of the alarms with that severity, and a filter on state (or `send_resolved: false`) becomes `NewStateValue`.\n")
	w("- **PagerDuty and OpsGenie** subscribe over https to their integration URLs for Amazon CloudWatch / SNS (create the integration in the service; the URL carries its key, so it is a sensitive variable). They read the CloudWatch alarm payload and open and resolve incidents from ALARM and OK.\n")
	w("- **Email** subscribes each address given in the channel's variable.\n")
	w("- **Slack goes through AWS Chatbot** (Amazon Q Developer in chat applications). SNS cannot post to a Slack webhook (an https subscription would send the SNS envelope, which Slack rejects), so the choice is Chatbot or a forwarding Lambda. Chatbot is AWS's own, needs no code or webhook secret in the state, and formats CloudWatch alarms with their graphs. Before `apply`, authorise the Slack workspace once in the Chatbot console and invite `@aws` to the channel; the variables take the workspace id and the channel id. Chatbot subscribes to whole topics, so a filtered Slack subscription gets a route topic of its own, which only the matching alarms notify. Chatbot's API is served from %s only, so the configurations are created through the `aws.chatbot` provider the root configuration passes (the AWS provider 5.x has no region per resource); a precondition fails the plan when that provider's region is not one of them. A configuration may subscribe to topics of any region.\n", strings.Join(chatbotRegions, ", "))
	w("- Channels of type `inbox` and `webhook` are served by the running dpcops only; a channel of type `sns` is added to the actions of the alarms that reach it.\n\n")
}

func (r *renderer) readmeMetrics(w func(string, ...any)) {
	w("## Metrics\n\n")
	w("- **Metrics AWS publishes only per QueryType** (QueriesSucceeded, QueriesFailed, QueriesRunning) are summed over QueryType. SEARCH is not allowed in alarms, so an alarm sums them with one Metrics Insights query (`SELECT SUM(...) FROM SCHEMA(...)`; one per alarm, evaluated over the last 3 hours), and a second such metric in the same alarm as one metric per QueryType added up with `SUM([...])` (each counts towards the 10 metrics of a math alarm). The dashboard uses `SUM(SEARCH(...))`. AWS publishes these counts only for the periods and query types that had such queries, so where such a sum is a divisor it is read as `FILL(x, 0)`: an hour in which every query failed is a failure rate of 100 %%, not missing data, while an hour without queries stays without data.\n")
	if u := r.s.Capacity.UsageLimit; u != nil {
		w("- **The usage limit** has no percentage alert of its own: its alarm reads `UsageLimitConsumed` of this module's usage limit with a Metrics Insights query and compares `100 × consumed ÷ %s` RPU-hours with %s %%.\n", fmtNum(u.RPUHours), fmtNum(u.NotifyAtPercent))
	}
	w("- **Failed queries are `QueriesFailed`; their texts are in `%s`.** The module has no log metric filter on Redshift's logs: the user activity log records each statement before it runs, so its lines are query texts, not errors. dpcops writes failed queries (SYS_QUERY_HISTORY) and rejected COPY rows (SYS_LOAD_ERROR_DETAIL) as JSON events to the log group the module creates, and the dashboard's log widget reads it. A log widget that reads a user activity log says so in its title.\n", collect.ErrorLogGroup(r.s.Platform))
	if len(r.published) == 0 {
		w("\n")
		return
	}
	w("- **Published by dpcops.** These metrics are computed by dpcops: %s.", "`"+strings.Join(r.published, "`, `")+"`")
	if r.publishing() {
		var serve []string
		for _, m := range r.published {
			if r.serveOnly(m) {
				serve = append(serve, m)
			}
		}
		w(" The module's publisher function publishes them (below)")
		if len(serve) > 0 {
			w(", except %s: the capacity lease manager and the notification worker run only in `dpcops serve`, so these reach CloudWatch only from a serve with `collect.publish: true` (which, beside the function, publishes only these and its heartbeat), and their alarms have no data without one", "`"+strings.Join(serve, "`, `")+"`")
		}
		w(".")
	} else {
		w(" They reach CloudWatch only while a dpcops serve runs with `collect.publish: true`; without it their alarms have no data (and stay INSUFFICIENT_DATA, or OK where missing data is not breaching).")
		if !r.s.Collect.Publish {
			w(" **The spec has `collect.publish: false`.**")
		}
	}
	w("\n\n")
}

func (r *renderer) readmePublisher(w func(string, ...any)) {
	if !r.publishing() {
		return
	}
	name := r.publisherName()
	w("## Publisher\n\n")
	w("`%s` is dpcops as an AWS Lambda function (`%s`, the binary as `bootstrap`), invoked by EventBridge Scheduler every %s. Each invocation is one collection cycle: SQL through the Redshift Data API with the function's IAM identity (no password), CloudWatch and Step Functions reads; it publishes the `Custom/DPC` metrics, writes the error events to `%s`, and beats `%s`. The alarm `%s-dpcops-publisher` pages every alarm topic when 3 of 5 periods have no beat (missing data breaching), so a dead publisher does not leave the alarms on its metrics silently green. It sends SQL only while CloudWatch shows queries other than its own, so it never wakes an idle workgroup, nor keeps one awake. Nothing retries a failed invocation: the next one collects.\n\n", name, lambdaRuntime, r.s.Collect.Interval, collect.ErrorLogGroup(r.s.Platform), publisher.HeartbeatMetric, r.s.Platform)
	w("Its database user is `IAMR:%s`. The role carries the tag `RedshiftDbRoles = %s`, so every session of the function has that database role; create it once, as a superuser, with the grants the monitoring SQL needs:\n\n", name, publisherDBRole)
	w("```sql\nCREATE ROLE %s;\nGRANT ROLE sys:monitor TO ROLE %s;\nGRANT SELECT ON sys_serverless_usage TO ROLE %s;\n```\n\n", publisherDBRole, publisherDBRole, publisherDBRole)
}

func (r *renderer) readmeCapacity(w func(string, ...any)) {
	c := r.s.Capacity
	w("## Capacity\n\n")
	w("With `manage_workgroup = true` the module owns the workgroup: import it first (`terraform import 'module.operations.aws_redshiftserverless_workgroup.this[0]' %s`), and it sets base %d and max %d RPU", r.s.Warehouse.Workgroup, c.BaseRPU, r.normalMaxRPU())
	for _, p := range r.limits {
		w(", and `%s = %d`", p.key, p.seconds)
	}
	w(". With `false` (the default) it only reads the workgroup; set the same on it yourself:\n\n")
	w("```sh\naws redshift-serverless update-workgroup --workgroup-name %s --base-capacity %d --max-capacity %d", r.s.Warehouse.Workgroup, c.BaseRPU, r.normalMaxRPU())
	if len(r.limits) > 0 {
		w(" \\\n  --config-parameters")
		for _, p := range r.limits {
			w(" parameterKey=%s,parameterValue=%d", p.key, p.seconds)
		}
	}
	w("\n```\n\nRedshift Serverless has no auto-pause setting: a workgroup bills no compute while no query runs. Query monitoring rules that notify or log stay with the running dpcops: a workgroup can only stop queries.\n\n")
	if l := c.Lease; l != nil {
		w("### Capacity lease\n\nThe workgroup runs at %d RPU; only %s may raise it to %d RPU, for at most %s. `dpcops render stepfunctions` prints the states that wrap the pipeline's dbt task (raise, dbt, lower, and a Catch that lowers too); `dpcops capacity raise`/`lower` do the same from a shell. Attach the policy `capacity_lease_policy_arn` (GetWorkgroup, UpdateWorkgroup on this workgroup) to the state machine's role and to dpcops' role. A managed workgroup ignores changes to `max_capacity` so that an apply never undoes a raise mid-run; a running `dpcops serve` lowers any raise left in place.\n\n",
			l.NormalMaxRPU, strings.Join(l.Pipelines, ", "), l.BatchMaxRPU, l.MaxDuration)
	}
}

func (r *renderer) readmeMaintenance(w func(string, ...any)) {
	if len(r.schedules) == 0 {
		return
	}
	w("## Maintenance\n\nEventBridge Scheduler invokes `var.maintenance_target_arn`, a Lambda function or a Step Functions state machine, with the input `{\"job\": \"<name>\"}`; the target runs `dpcops maintenance run --job <name>`. An ECS task is refused at plan time: it would need `ecs_parameters` (task definition, network), which the module does not render. The spec's five-field cron becomes EventBridge's six fields (`?` in the day field left open, days of the week as names), in the job's time zone.\n\n| job | spec | EventBridge | time zone |\n|---|---|---|---|\n")
	for _, s := range r.schedules {
		w("| %s | `%s` | `%s` | %s |\n", cell(s.job), cell(s.cron), s.expr, cell(s.tz))
	}
	w("\n")
}

// cell makes spec text safe in a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(oneLine(s), "|", "\\|") }
