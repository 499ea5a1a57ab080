package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// parsed is a rendered module read back with hclsyntax, as Terraform
// reads it.
type parsed struct {
	t      *testing.T
	blocks []*hclsyntax.Block
}

// parseModule parses every .tf file, failing on any syntax error.
func parseModule(t *testing.T, files Files) *parsed {
	t.Helper()
	p := &parsed{t: t}
	for _, name := range files.Names() {
		if !strings.HasSuffix(name, ".tf") {
			continue
		}
		f, diags := hclsyntax.ParseConfig(files[name], name, hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s does not parse: %v", name, diags)
		}
		p.blocks = append(p.blocks, f.Body.(*hclsyntax.Body).Blocks...)
	}
	return p
}

// resources returns the resources of a type by name.
func (p *parsed) resources(typ string) map[string]*hclsyntax.Block {
	out := map[string]*hclsyntax.Block{}
	for _, b := range p.blocks {
		if b.Type == "resource" && b.Labels[0] == typ {
			out[b.Labels[1]] = b
		}
	}
	return out
}

// value evaluates a literal attribute (no references).
func (p *parsed) value(b *hclsyntax.Body, name string) cty.Value {
	p.t.Helper()
	a, ok := b.Attributes[name]
	if !ok {
		return cty.NilVal
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() {
		p.t.Fatalf("attribute %s is not a literal: %v", name, diags)
	}
	return v
}

// refs returns the references an attribute makes, as text.
func refs(b *hclsyntax.Body, name string) []string {
	a, ok := b.Attributes[name]
	if !ok {
		return nil
	}
	var out []string
	for _, tr := range a.Expr.Variables() {
		var sb strings.Builder
		for _, step := range tr {
			switch s := step.(type) {
			case hcl.TraverseRoot:
				sb.WriteString(s.Name)
			case hcl.TraverseAttr:
				sb.WriteString("." + s.Name)
			}
		}
		out = append(out, sb.String())
	}
	return out
}

func num64(v cty.Value) float64 {
	f, _ := v.AsBigFloat().Float64()
	return f
}

// TestAlarmsMatchTheSpec reads alarms.tf back and checks every alarm
// against the spec alarm it renders: what a user relies on when the
// CloudWatch alarm replaces dpcops' own.
func TestAlarmsMatchTheSpec(t *testing.T) {
	s := defaultSpec(t)
	files, err := Terraform(s)
	if err != nil {
		t.Fatal(err)
	}
	p := parseModule(t, files)
	alarms := p.resources("aws_cloudwatch_metric_alarm")
	byName := map[string]*hclsyntax.Body{}
	for _, b := range alarms {
		byName[p.value(b.Body, "alarm_name").AsString()] = b.Body
	}
	// The module's own: the publisher's heartbeat (TestPublisherModule).
	delete(byName, s.Platform+"-dpcops-publisher")
	if len(byName) != len(s.Alarms) {
		t.Fatalf("%d alarms rendered, the spec has %d", len(byName), len(s.Alarms))
	}
	topics := p.resources("aws_sns_topic")
	composites := map[string]*hclsyntax.Body{}
	for _, b := range p.resources("aws_cloudwatch_composite_alarm") {
		composites[p.value(b.Body, "alarm_name").AsString()] = b.Body
	}
	for _, a := range s.Alarms {
		b, ok := byName[a.Name]
		if !ok {
			t.Errorf("alarm %s not rendered", a.Name)
			continue
		}
		checkAlarm(t, p, a, b)
		// An inhibited alarm notifies through its composite alarm
		// (TestInhibitRulesRenderAsSuppressedComposites).
		actions := b
		if c, ok := composites[awsName(a.Name+"-notify")]; ok {
			if got := refs(b, "alarm_actions"); len(got) != 0 {
				t.Errorf("%s is inhibited but its metric alarm notifies %v itself", a.Name, got)
			}
			actions = c
		}
		for _, attr := range []string{"alarm_actions", "ok_actions"} {
			got := refs(actions, attr)
			if len(got) != len(a.Topics) {
				t.Errorf("%s %s: %v, want the topics %v", a.Name, attr, got, a.Topics)
			}
			for i, tp := range a.Topics {
				name := strings.TrimSuffix(strings.TrimPrefix(got[i], "aws_sns_topic."), ".arn")
				if tb, ok := topics[name]; !ok || p.value(tb.Body, "name").AsString() != tp {
					t.Errorf("%s %s[%d] = %s, want topic %s", a.Name, attr, i, got[i], tp)
				}
			}
		}
	}
}

func checkAlarm(t *testing.T, p *parsed, a spec.Alarm, b *hclsyntax.Body) {
	t.Helper()
	if got := p.value(b, "comparison_operator").AsString(); got != a.Comparison {
		t.Errorf("%s: comparison %s, want %s", a.Name, got, a.Comparison)
	}
	if got := num64(p.value(b, "threshold")); got != *a.Threshold {
		t.Errorf("%s: threshold %v, want %v", a.Name, got, *a.Threshold)
	}
	if got := num64(p.value(b, "evaluation_periods")); got != float64(a.EvaluationPeriods) {
		t.Errorf("%s: evaluation_periods %v, want %d", a.Name, got, a.EvaluationPeriods)
	}
	if got := num64(p.value(b, "datapoints_to_alarm")); got != float64(a.DatapointsToAlarm) {
		t.Errorf("%s: datapoints_to_alarm %v, want %d", a.Name, got, a.DatapointsToAlarm)
	}
	if got := p.value(b, "treat_missing_data").AsString(); got != a.TreatMissingData {
		t.Errorf("%s: treat_missing_data %s, want %s", a.Name, got, a.TreatMissingData)
	}
	periods, returns, stats := alarmPeriods(t, p, b)
	for _, got := range periods {
		if got != float64(a.Period.Seconds()) {
			t.Errorf("%s: period %v, want %d", a.Name, got, a.Period.Seconds())
		}
	}
	for _, got := range stats {
		if got != a.Statistic {
			t.Errorf("%s: statistic %s, want %s", a.Name, got, a.Statistic)
		}
	}
	if len(periods) == 0 || returns != 1 {
		t.Errorf("%s: %d periods, %d queries returning data; want some periods and exactly one return_data", a.Name, len(periods), returns)
	}
}

// alarmPeriods collects the periods and statistics of a plain alarm, or
// of every metric and Metrics Insights query of a math alarm, and counts
// the queries with return_data = true.
func alarmPeriods(t *testing.T, p *parsed, b *hclsyntax.Body) (periods []float64, returns int, stats []string) {
	if _, ok := b.Attributes["metric_name"]; ok {
		stat := p.value(b, "statistic")
		if stat == cty.NilVal {
			stat = p.value(b, "extended_statistic")
		}
		return []float64{num64(p.value(b, "period"))}, 1, []string{stat.AsString()}
	}
	for _, q := range b.Blocks {
		if q.Type == "lifecycle" {
			continue // a maintenance window's (TestWindowsRender)
		}
		if q.Type != "metric_query" {
			t.Fatalf("unexpected block %s", q.Type)
		}
		if p.value(q.Body, "return_data").True() {
			returns++
		}
		if v := p.value(q.Body, "period"); v != cty.NilVal {
			periods = append(periods, num64(v))
		}
		for _, m := range q.Body.Blocks {
			periods = append(periods, num64(p.value(m.Body, "period")))
			stats = append(stats, p.value(m.Body, "stat").AsString())
		}
	}
	return periods, returns, stats
}

// TestFilesAreCanonical: each .tf file is what `terraform fmt` would
// write, so `terraform fmt -check` passes in CI.
func TestFilesAreCanonical(t *testing.T) {
	files, err := Terraform(defaultSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files.Names() {
		if strings.HasSuffix(name, ".tf") && !bytes.Equal(hclwrite.Format(files[name]), files[name]) {
			t.Errorf("%s is not canonical", name)
		}
	}
}

// TestRenderIsDeterministic: the same spec renders the same bytes, and
// secrets in the environment change nothing (they never reach the module).
func TestRenderIsDeterministic(t *testing.T) {
	first, err := Terraform(defaultSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/SECRETSLACK", "PD_ROUTING_KEY": "SECRETPD",
		"OPSGENIE_API_KEY": "SECRETOG", "DPCOPS_SMTP_ADDR": "smtp.example.org:587", "DPCOPS_EMAIL_TO": "ops@example.org",
		"DPCOPS_SMTP_PASSWORD": "SECRETMAIL", "DPCOPS_SMTP_USERNAME": "u",
	}
	s, diags := spec.Default(spec.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var again Files
	for i := 0; i < 3; i++ {
		again, err = Terraform(s)
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != len(first) {
			t.Fatalf("%d files, then %d", len(first), len(again))
		}
		for name, data := range first {
			if !bytes.Equal(again[name], data) {
				t.Fatalf("%s differs between renderings:\n%s", name, unifiedDiff("first", "again", string(data), string(again[name])))
			}
		}
	}
	for name, data := range again {
		for _, v := range env {
			if strings.Contains(v, "SECRET") && bytes.Contains(data, []byte(v)) {
				t.Errorf("%s holds the secret %s", name, v)
			}
		}
	}
}
