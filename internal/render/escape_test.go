package render

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// hostile are names and texts that break naive quoting: quotes,
// backslashes, template introducers, newlines, non-ASCII.
var hostile = []string{
	`say "hi"`,
	`${var.region}`,
	`%{ if true }x%{ endif }`,
	`back\slash\n`,
	`$${already} %%{escaped}`,
	"アラーム ${}",
	`# not a comment */ /*`,
}

var identifierRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// TestHostileNamesAreEscaped renders alarms, descriptions and widget
// titles made of hostile text and reads them back: every file parses, each
// value is the spec's text exactly, and resource names are identifiers.
func TestHostileNamesAreEscaped(t *testing.T) {
	var alarms, filters strings.Builder
	for i, h := range hostile {
		q := yamlString(h)
		fmt.Fprintf(&alarms, "  - {name: %s, description: %s, metric: Delay, comparison: GreaterThanThreshold, threshold: %d, topics: [t]}\n", q, yamlString(h+"\n\tend"), i)
		fmt.Fprintf(&filters, "%s, ", q)
	}
	y := strings.Replace(baseSpec, "  - {name: A, metric: Delay, comparison: GreaterThanThreshold, threshold: 1, topics: [t]}\n", alarms.String(), 1)
	y = strings.Replace(y, "t: {subscriptions: [pd]}", "t: {subscriptions: [{channel: pd, filter: {alarm: ["+strings.TrimSuffix(filters.String(), ", ")+"]}}]}", 1)
	title := hostile[1] + hostile[0] + "\n" + hostile[3]
	y = strings.Replace(y, "maintenance:", "dashboard:\n  widgets:\n    - {type: text, properties: {markdown: "+yamlString(title)+"}}\n    - {type: metric, properties: {title: "+yamlString(title)+", metrics: [[Custom/DPC, Delay]]}}\nmaintenance:", 1)
	s := parseSpec(t, y)
	files, err := Terraform(s)
	if err != nil {
		t.Fatal(err)
	}
	p := parseModule(t, files)
	got := map[string]string{}
	for id, b := range p.resources("aws_cloudwatch_metric_alarm") {
		if !identifierRE.MatchString(id) {
			t.Errorf("resource name %q is not a plain identifier", id)
		}
		name := p.value(b.Body, "alarm_name").AsString()
		if name == "p-usage-limit" {
			continue // the module's own usage limit alarm
		}
		if desc := p.value(b.Body, "alarm_description").AsString(); desc != name+"\n\tend" {
			t.Errorf("description %q, want %q", desc, name+"\n\tend")
		}
		got[name] = id
	}
	for _, h := range hostile {
		if _, ok := got[h]; !ok {
			t.Errorf("alarm %q not read back; have %q", h, got)
		}
	}
	checkFilterPolicy(t, p)
	checkDashboardTitle(t, s, title)
}

// checkFilterPolicy reads the filter policy back: the alarm names it
// lists are the hostile ones, unchanged.
func checkFilterPolicy(t *testing.T, p *parsed) {
	t.Helper()
	for _, b := range p.resources("aws_sns_topic_subscription") {
		call := b.Body.Attributes["filter_policy"].Expr.(*hclsyntax.FunctionCallExpr)
		v, diags := call.Args[0].Value(nil)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		names := v.GetAttr("AlarmName")
		if names.LengthInt() != len(hostile) {
			t.Fatalf("filter lists %d names", names.LengthInt())
		}
		for i, h := range hostile {
			if got := names.Index(cty.NumberIntVal(int64(i))).AsString(); got != h {
				t.Errorf("filter name %d = %q, want %q", i, got, h)
			}
		}
	}
}

func checkDashboardTitle(t *testing.T, s *spec.Spec, want string) {
	t.Helper()
	body, err := Dashboard(s)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Widgets []struct {
			Properties struct {
				Title, Markdown string
			}
		}
	}
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	if d.Widgets[0].Properties.Markdown != want || d.Widgets[1].Properties.Title != want {
		t.Errorf("got %+v, want %q", d.Widgets, want)
	}
}

// yamlString quotes s for the spec: a double-quoted YAML string, with $
// doubled so that ${...} stays text instead of naming a variable.
func yamlString(s string) string {
	q, _ := json.Marshal(strings.ReplaceAll(s, "$", "$$"))
	return string(q)
}
