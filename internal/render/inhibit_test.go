package render

import (
	"strings"
	"testing"
)

// TestInhibitRulesRenderAsSuppressedComposites: an inhibited alarm's
// notifications move to a composite alarm on it whose actions_suppressor
// is its source (one source) or a composite of its sources (several);
// the module README says what CloudWatch does otherwise than dpcops.
func TestInhibitRulesRenderAsSuppressedComposites(t *testing.T) {
	y := edit(t, "  - {name: A, metric: Delay, comparison: GreaterThanThreshold, threshold: 1, topics: [t]}\n",
		"  - {name: A, metric: Delay, comparison: GreaterThanThreshold, threshold: 1, topics: [t]}\n"+
			"  - {name: B, metric: Delay, comparison: GreaterThanThreshold, threshold: 2, topics: [t]}\n"+
			"  - {name: C, metric: Delay, comparison: GreaterThanThreshold, threshold: 3, topics: [t]}\n"+
			"  - {name: D, metric: Delay, comparison: GreaterThanThreshold, threshold: 4, topics: [t]}\n")
	y = strings.Replace(y, "t: {subscriptions: [pd]}", "t: {subscriptions: [{channel: pd, filter: {alarm: [B]}}]}", 1)
	y = strings.Replace(y, "collect: {publisher: serve, publish: true}", "collect: {publisher: serve, publish: true}\nnotify: {inhibit: [{source: [A], target: [B]}, {source: [A, C], target: [D]}]}", 1)
	files, err := Terraform(parseSpec(t, y))
	if err != nil {
		t.Fatal(err)
	}
	p := parseModule(t, files)
	comps := map[string]string{}
	for id, b := range p.resources("aws_cloudwatch_composite_alarm") {
		comps[p.value(b.Body, "alarm_name").AsString()] = id
	}
	alarms := strings.Join(strings.Fields(string(files["alarms.tf"])), " ")
	for _, want := range []string{
		`alarm_rule = "ALARM(\"${aws_cloudwatch_metric_alarm.b.alarm_name}\")"`,
		`alarm = aws_cloudwatch_metric_alarm.a.alarm_name`,
		`alarm_rule = "ALARM(\"${aws_cloudwatch_metric_alarm.a.alarm_name}\") OR ALARM(\"${aws_cloudwatch_metric_alarm.c.alarm_name}\")"`,
	} {
		if !strings.Contains(alarms, want) {
			t.Errorf("alarms.tf lacks %s:\n%s", want, alarms)
		}
	}
	if _, ok := comps["B-notify"]; !ok {
		t.Errorf("no composite for B: %v", comps)
	}
	if _, ok := comps["p-inhibits-D"]; !ok {
		t.Errorf("no suppressor of D's two sources: %v", comps)
	}
	for id, b := range p.resources("aws_cloudwatch_metric_alarm") {
		name := p.value(b.Body, "alarm_name").AsString()
		if has := len(refs(b.Body, "alarm_actions")) > 0; has == (name == "B" || name == "D") {
			t.Errorf("metric alarm %s (%s) notifies itself: %v", name, id, has)
		}
	}
	// A subscription filtered on B lets B's composite through.
	if n := strings.Join(strings.Fields(string(files["notifications.tf"])), " "); !strings.Contains(n, `AlarmName = ["B", "B-notify"]`) {
		t.Errorf("the filter policy does not let the composite through:\n%s", files["notifications.tf"])
	}
	if !strings.Contains(string(files["README.md"]), "does not send them when the source resolves") {
		t.Error("the README does not say what CloudWatch does otherwise")
	}
}
