package render

import (
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// TestPublisherModule: with collect.publisher lambda (the default) the
// module has the function, its schedule at collect.interval, and a
// heartbeat alarm that pages when the beats stop; with serve it has
// neither, and the error log group either way.
func TestPublisherModule(t *testing.T) {
	s := defaultSpec(t)
	s.Collect.Interval = spec.Duration(5 * time.Minute)
	files, err := Terraform(s)
	if err != nil {
		t.Fatal(err)
	}
	p := parseModule(t, files)
	fn := p.resources("aws_lambda_function")["publisher"]
	if fn == nil {
		t.Fatal("no publisher function")
	}
	if rt, h := p.value(fn.Body, "runtime").AsString(), p.value(fn.Body, "handler").AsString(); rt != "provided.al2023" || h != "bootstrap" {
		t.Errorf("runtime %s handler %s", rt, h)
	}
	sc := p.resources("aws_scheduler_schedule")["publisher"]
	if sc == nil || p.value(sc.Body, "schedule_expression").AsString() != "rate(5 minutes)" {
		t.Fatalf("schedule %v", sc)
	}
	var hb *struct{ Body *hclsyntax.Body }
	for _, a := range p.resources("aws_cloudwatch_metric_alarm") {
		if p.value(a.Body, "alarm_name").AsString() == "dpc-learning-dpcops-publisher" {
			hb = &struct{ Body *hclsyntax.Body }{a.Body}
		}
	}
	if hb == nil {
		t.Fatal("no heartbeat alarm")
	}
	if m, miss, stat, period := p.value(hb.Body, "metric_name").AsString(), p.value(hb.Body, "treat_missing_data").AsString(),
		p.value(hb.Body, "statistic").AsString(), p.value(hb.Body, "period").AsBigFloat().String(); m != "PublisherHeartbeat" || miss != "breaching" || stat != "SampleCount" || period != "300" {
		t.Errorf("heartbeat alarm on %s, missing %s, %s, period %s", m, miss, stat, period)
	}
	if acts := refs(hb.Body, "alarm_actions"); len(acts) == 0 {
		t.Error("the heartbeat alarm notifies no topic")
	}
	if !slices.Contains(keys(p.resources("aws_cloudwatch_log_group")), "errors") {
		t.Error("no error log group")
	}

	s.Collect.Publisher, s.Collect.Publish = spec.PublisherServe, true
	files, err = Terraform(s)
	if err != nil {
		t.Fatal(err)
	}
	p = parseModule(t, files)
	if len(p.resources("aws_lambda_function")) != 0 || p.resources("aws_scheduler_schedule")["publisher"] != nil {
		t.Error("publisher serve still renders the function")
	}
	if p.resources("aws_cloudwatch_log_group")["errors"] == nil {
		t.Error("serve with collect.publish writes the error events too: the group must be there")
	}
}
