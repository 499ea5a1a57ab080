package render

import (
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/selfmon"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// TestHeartbeatAlarm: with notify.heartbeat and collect.publish, the
// module watches the Heartbeat metric dpcops publishes, and missing beats
// page; without either it says why it has no such alarm.
func TestHeartbeatAlarm(t *testing.T) {
	if heartbeatMetric != selfmon.HeartbeatMetric {
		t.Fatalf("render watches %s, dpcops publishes %s", heartbeatMetric, selfmon.HeartbeatMetric)
	}
	s := defaultSpec(t)
	s.Collect.Publish = true
	s.Notify.Heartbeat = &spec.Heartbeat{Enabled: spec.NewEnabled(spec.EnabledTrue), URL: "https://hc-ping.com/0a1b2c3d",
		Interval: spec.Duration(90 * time.Second), Timeout: spec.Duration(10 * time.Second)}
	files, err := Terraform(s)
	if err != nil {
		t.Fatal(err)
	}
	tf := string(files["alarms.tf"])
	i := strings.Index(tf, `resource "aws_cloudwatch_metric_alarm" "dpc_learning_dpcops_heartbeat"`)
	if i < 0 {
		t.Fatalf("no heartbeat alarm in alarms.tf:\n%s", tf)
	}
	block := tf[i:]
	block = block[:strings.Index(block, "\n}\n")]
	flat := strings.Join(strings.Fields(block), " ")
	for _, want := range []string{`metric_name = "Heartbeat"`, `namespace = "Custom/DPC"`, `Environment = "prod"`,
		`treat_missing_data = "breaching"`, `comparison_operator = "LessThanThreshold"`, `period = 120`,
		`statistic = "SampleCount"`, `alarm_actions = [aws_sns_topic.dpc_alerts.arn]`} {
		if !strings.Contains(flat, want) {
			t.Errorf("heartbeat alarm lacks %s:\n%s", want, block)
		}
	}
	if strings.Contains(string(files["README.md"]), "no alarm for a dpcops that dies") || strings.Contains(tf, "0a1b2c3d") {
		t.Error("the README says there is no heartbeat alarm, or the module holds the heartbeat URL")
	}

	s.Collect.Publish = false
	files, err = Terraform(s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(files["alarms.tf"]), "dpcops_heartbeat") ||
		!strings.Contains(string(files["README.md"]), "collect.publish is false: dpcops does not publish its heartbeat") {
		t.Error("without collect.publish the module must have no heartbeat alarm, and say why")
	}
}
