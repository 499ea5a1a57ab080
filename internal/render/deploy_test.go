package render

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// The tests of this file hold the module to what makes it apply and work
// as designed in AWS, beyond what the provider's schema checks (see
// terraform_test.go for those).

// TestChatbotGoesThroughAChatbotRegion: AWS Chatbot's API is served from
// us-east-2, us-west-2, eu-west-1 and ap-southeast-1 only, so the Slack
// configurations are created through the aws.chatbot provider the caller
// passes, and a precondition refuses that provider in any other region.
func TestChatbotGoesThroughAChatbotRegion(t *testing.T) {
	files, err := Terraform(defaultSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(files["versions.tf"]), "configuration_aliases = [aws.chatbot]") {
		t.Errorf("versions.tf must ask the caller for aws.chatbot:\n%s", files["versions.tf"])
	}
	p := parseModule(t, files)
	configs := p.resources("aws_chatbot_slack_channel_configuration")
	if len(configs) == 0 {
		t.Fatal("the default spec has a Slack channel: want a Chatbot configuration")
	}
	for name, b := range configs {
		if got := refs(b.Body, "provider"); !slices.Equal(got, []string{"aws.chatbot"}) {
			t.Errorf("%s: provider %v, want aws.chatbot", name, got)
		}
		cond := precondition(t, b.Body)
		if cond == nil {
			t.Errorf("%s: no precondition on the provider's region", name)
			continue
		}
		for region, ok := range map[string]bool{"ap-southeast-1": true, "us-east-2": true, "us-west-2": true, "eu-west-1": true,
			"ap-northeast-1": false, "us-east-1": false} {
			v, diags := cond.Value(&hcl.EvalContext{
				Variables: map[string]cty.Value{"data": cty.ObjectVal(map[string]cty.Value{
					"aws_region": cty.ObjectVal(map[string]cty.Value{"chatbot": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(region)})}),
				})},
				Functions: map[string]function.Function{"contains": stdlib.ContainsFunc},
			})
			if diags.HasErrors() {
				t.Fatalf("%s: precondition: %v", name, diags)
			}
			if v.True() != ok {
				t.Errorf("%s: a Chatbot provider in %s passes the precondition: %v, want %v", name, region, v.True(), ok)
			}
		}
	}
}

// precondition returns the condition of a resource's lifecycle
// precondition, or nil.
func precondition(t *testing.T, b *hclsyntax.Body) hcl.Expression {
	t.Helper()
	for _, lc := range b.Blocks {
		if lc.Type != "lifecycle" {
			continue
		}
		for _, pc := range lc.Body.Blocks {
			if a, ok := pc.Body.Attributes["condition"]; ok && pc.Type == "precondition" {
				return a.Expr
			}
		}
	}
	return nil
}

// TestMetricFiltersReadGroupsTheModuleCreates: PutMetricFilter answers
// ResourceNotFoundException for a log group that does not exist, and
// Redshift creates its log groups only once it has exported to them. A
// metric filter must therefore read a group the module itself creates.
func TestMetricFiltersReadGroupsTheModuleCreates(t *testing.T) {
	files, err := Terraform(defaultSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	p := parseModule(t, files)
	groups := p.resources("aws_cloudwatch_log_group")
	for name, f := range p.resources("aws_cloudwatch_log_metric_filter") {
		got := refs(f.Body, "log_group_name")
		ok := len(got) == 1 && strings.HasPrefix(got[0], "aws_cloudwatch_log_group.") && strings.HasSuffix(got[0], ".name")
		if ok {
			_, ok = groups[strings.TrimSuffix(strings.TrimPrefix(got[0], "aws_cloudwatch_log_group."), ".name")]
		}
		if !ok {
			t.Errorf("metric filter %s reads a log group the module does not create (refs %v): apply fails until the group exists", name, got)
		}
	}
}

// TestUserActivityLogIsNotCountedAsErrors: the user activity log records
// each statement before it runs, so nothing in the module may count its
// lines as errors, and a dashboard widget that shows them says what they
// are.
func TestUserActivityLogIsNotCountedAsErrors(t *testing.T) {
	s := defaultSpec(t)
	if !strings.HasSuffix(s.Warehouse.LogGroup, "/useractivitylog") {
		t.Fatalf("the default spec's log group is %q", s.Warehouse.LogGroup)
	}
	for i := range s.Dashboard.Widgets {
		if w := &s.Dashboard.Widgets[i]; w.Type == "log" {
			w.Properties.Query = "SOURCE '" + s.Warehouse.LogGroup + "' | fields @timestamp, @message | filter @message like 'ERROR' | limit 20"
		}
	}
	files, err := Terraform(s)
	if err != nil {
		t.Fatal(err)
	}
	p := parseModule(t, files)
	for name, f := range p.resources("aws_cloudwatch_log_metric_filter") {
		if src := string(f.Body.Attributes["log_group_name"].Expr.Range().SliceBytes(files[f.Range().Filename])); strings.Contains(src, "useractivitylog") {
			t.Errorf("metric filter %s counts lines of the user activity log (%s), which are statements, not errors", name, src)
		}
	}
	body, err := Dashboard(s)
	if err != nil {
		t.Fatal(err)
	}
	logs := 0
	for _, w := range checkBody(t, body) {
		q, _ := w.Properties["query"].(string)
		if w.Type != "log" || !strings.Contains(q, "/useractivitylog'") {
			continue
		}
		logs++
		if title, _ := w.Properties["title"].(string); !strings.Contains(title, "not failed queries") {
			t.Errorf("log widget %q reads the user activity log; its title must say the lines are statements, not failed queries", title)
		}
	}
	if logs == 0 {
		t.Fatal("the dashboard has a log widget on the user activity log")
	}
}

// TestLogWidgetReadsTheErrorEvents: the default dashboard's Latest errors
// reads the group the module creates for dpcops' error events, by
// reference, so the widget and the group cannot disagree on its name.
func TestLogWidgetReadsTheErrorEvents(t *testing.T) {
	files, err := Terraform(defaultSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	if d := string(files["dashboard.tf"]); !strings.Contains(d, `query  = "SOURCE '${aws_cloudwatch_log_group.errors.name}' | fields @timestamp, source, error, query, file, line`) {
		t.Errorf("the log widget does not read the error log group:\n%s", d)
	}
	if p := string(files["publisher.tf"]); !strings.Contains(p, `name              = "/dpcops/dpc-learning/errors"`) {
		t.Errorf("the module does not create the error log group:\n%s", p)
	}
}

// searchRE finds the metric schema of each SEARCH expression.
var searchRE = regexp.MustCompile(`SEARCH\('\{([^}]*)\}`)

// TestSearchQuotesNamesWithSymbols: CloudWatch's search expression syntax
// wants a namespace or dimension name with anything but letters and
// digits (AWS/Redshift-Serverless) in double quotes.
func TestSearchQuotesNamesWithSymbols(t *testing.T) {
	body, err := Dashboard(defaultSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	text, _ := json.Marshal(v)
	plain := strings.ReplaceAll(string(text), `\"`, `"`)
	found := searchRE.FindAllStringSubmatch(plain, -1)
	if len(found) == 0 {
		t.Fatal("the default dashboard sums QueriesSucceeded over QueryType with SEARCH")
	}
	bare := regexp.MustCompile(`^[A-Za-z0-9]+$`)
	quoted := regexp.MustCompile(`^"[^"]+"$`)
	for _, m := range found {
		for i, name := range strings.Split(m[1], ",") {
			if !bare.MatchString(name) && !quoted.MatchString(name) {
				t.Errorf("SEARCH schema {%s}: %s must be in double quotes", m[1], name)
			}
			if i == 0 && name != `"AWS/Redshift-Serverless"` {
				t.Errorf("SEARCH schema {%s}: namespace %s", m[1], name)
			}
		}
	}
}

// TestMaintenanceTargetIsLambdaOrStateMachine: the schedules pass the job
// as input only; an ECS target would need ecs_parameters, so the module
// refuses an ECS ARN when it is planned, with Terraform's own regex
// function (go-cty's, which this test calls).
func TestMaintenanceTargetIsLambdaOrStateMachine(t *testing.T) {
	files, err := Terraform(defaultSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	var cond hcl.Expression
	for _, b := range parseModule(t, files).blocks {
		if b.Type != "variable" || b.Labels[0] != "maintenance_target_arn" {
			continue
		}
		for _, v := range b.Body.Blocks {
			if a, ok := v.Body.Attributes["condition"]; ok && v.Type == "validation" {
				cond = a.Expr
			}
		}
	}
	if cond == nil {
		t.Fatal("maintenance_target_arn has no validation")
	}
	for arn, ok := range map[string]bool{
		"arn:aws:lambda:ap-northeast-1:123456789012:function:dpcops-maintenance":      true,
		"arn:aws:lambda:ap-northeast-1:123456789012:function:dpcops-maintenance:live": true,
		"arn:aws:states:ap-northeast-1:123456789012:stateMachine:dpcops-maintenance":  true,
		"arn:aws:ecs:ap-northeast-1:123456789012:cluster/ops":                         false,
		"arn:aws:ecs:ap-northeast-1:123456789012:task-definition/dpcops:3":            false,
		"arn:aws:sqs:ap-northeast-1:123456789012:jobs":                                false,
		"dpcops-maintenance": false,
	} {
		v, diags := cond.Value(&hcl.EvalContext{
			Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{"maintenance_target_arn": cty.StringVal(arn)})},
			Functions: map[string]function.Function{"can": tryfunc.CanFunc, "regex": stdlib.RegexFunc},
		})
		if diags.HasErrors() {
			t.Fatalf("validation: %v", diags)
		}
		if v.True() != ok {
			t.Errorf("maintenance target %s accepted: %v, want %v", arn, v.True(), ok)
		}
	}
}

// updateWorkgroupModeled are the errors the Redshift Serverless API model
// lists for UpdateWorkgroup (boto/botocore
// data/redshift-serverless/2021-04-21/service-2.json). Step Functions
// names an AWS SDK integration's error ServiceName.ErrorName, so these are
// the only RedshiftServerless.* names a Retry or Catch of the task can
// ever see.
var updateWorkgroupModeled = []string{"InternalServerException", "InsufficientCapacityException",
	"ResourceNotFoundException", "ConflictException", "ValidationException", "Ipv6CidrBlockNotFoundException"}

// TestLeaseRetriesOnlyModeledErrors: every error a lease state retries or
// catches is one UpdateWorkgroup can raise, and the transient ones are
// retried.
func TestLeaseRetriesOnlyModeledErrors(t *testing.T) {
	out, err := StepFunctions(defaultSpec(t), StepFunctionsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var m aslMachine
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	tasks := 0
	for name, st := range m.States {
		if st.Resource != updateWorkgroup {
			continue
		}
		tasks++
		var retried []string
		for _, r := range st.Retry {
			retried = append(retried, r.ErrorEquals...)
		}
		for _, c := range st.Catch {
			retried = append(retried, c.ErrorEquals...)
		}
		for _, e := range retried {
			svc, name2, _ := strings.Cut(e, ".")
			if svc != "States" && (svc != "RedshiftServerless" || !slices.Contains(updateWorkgroupModeled, name2)) {
				t.Errorf("%s handles %s, which UpdateWorkgroup does not raise", name, e)
			}
		}
		for _, want := range []string{"RedshiftServerless.ConflictException", "RedshiftServerless.InternalServerException"} {
			if !slices.Contains(retried, want) {
				t.Errorf("%s does not retry %s", name, want)
			}
		}
	}
	if tasks != 3 {
		t.Errorf("%d UpdateWorkgroup tasks, want raise, lower and lower after failure", tasks)
	}
}
