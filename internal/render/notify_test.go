package render

import (
	"slices"
	"strings"
	"testing"
)

// TestRouting covers how spec filters reach AWS: a filtered Slack
// subscription gets a route topic that only matching alarms notify, a
// severity filter becomes alarm names in a message-body policy,
// send_resolved: false keeps OK notifications away, and an sns channel
// joins the actions of the alarms it should hear.
func TestRouting(t *testing.T) {
	y := strings.Replace(baseSpec, "  - {name: A, metric: Delay, comparison: GreaterThanThreshold, threshold: 1, topics: [t]}\n",
		"  - {name: A, metric: Delay, comparison: GreaterThanThreshold, threshold: 1, severity: critical, topics: [t]}\n"+
			"  - {name: B, metric: Delay, comparison: LessThanThreshold, threshold: 1, severity: info, topics: [t]}\n", 1)
	y = strings.Replace(y, "t: {subscriptions: [pd]}", `t:
    subscriptions:
      - {channel: sl, filter: {severity: [critical]}}
      - {channel: pd, filter: {severity: [critical]}}
      - mail
      - {channel: other, filter: {alarm: [B], state: [OK]}}`, 1)
	y = strings.Replace(y, "  pd: {type: pagerduty, routing_key: k}", `  pd: {type: pagerduty, routing_key: k}
  sl: {type: slack, webhook_url: "https://hooks.slack.com/x", channel: "#ops"}
  mail: {type: email, smtp: "smtp.example.org:587", from: a@example.org, to: [b@example.org], send_resolved: false}
  other: {type: sns, topic_arn: "arn:aws:sns:ap-northeast-1:111111111111:other"}`, 1)
	files, err := Terraform(parseSpec(t, y))
	if err != nil {
		t.Fatal(err)
	}
	p := parseModule(t, files)
	topics := p.resources("aws_sns_topic")
	if len(topics) != 2 || p.value(topics["t_sl"].Body, "name").AsString() != "t-sl" {
		t.Fatalf("want topic t and route topic t-sl, got %v", keys(topics))
	}
	alarms := p.resources("aws_cloudwatch_metric_alarm")
	wantActions := map[string][2][]string{
		"a": {{"aws_sns_topic.t.arn", "aws_sns_topic.t_sl.arn"}, {"aws_sns_topic.t.arn", "aws_sns_topic.t_sl.arn"}},
		"b": {{"aws_sns_topic.t.arn"}, {"aws_sns_topic.t.arn"}},
	}
	for id, want := range wantActions {
		if got := refs(alarms[id].Body, "alarm_actions"); !slices.Equal(got, want[0]) {
			t.Errorf("alarm %s alarm_actions %v, want %v", id, got, want[0])
		}
		if got := refs(alarms[id].Body, "ok_actions"); !slices.Equal(got, want[1]) {
			t.Errorf("alarm %s ok_actions %v, want %v", id, got, want[1])
		}
	}
	if !strings.Contains(string(files["alarms.tf"]), `ok_actions          = [aws_sns_topic.t.arn, "arn:aws:sns:ap-northeast-1:111111111111:other"]`) {
		t.Errorf("alarm B's OK must reach the sns channel:\n%s", files["alarms.tf"])
	}
	n := string(files["notifications.tf"])
	for _, want := range []string{
		"AlarmName = [\"A\"]",
		"NewStateValue = [\"ALARM\"]",
		"sns_topic_arns        = [aws_sns_topic.t_sl.arn]",
	} {
		if !strings.Contains(n, want) {
			t.Errorf("notifications.tf lacks %q:\n%s", want, n)
		}
	}
}

func keys[V any](m map[string]V) []string { return sortedKeys(m) }
