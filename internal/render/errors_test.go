package render

import (
	"errors"
	"strings"
	"testing"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// baseSpec is a small valid Redshift Serverless spec that the tests
// change one item at a time.
const baseSpec = `platform: p
aws: {region: ap-northeast-1, account_id: "111111111111"}
warehouse: {engine: redshift-serverless, workgroup: wg, namespace: ns}
capacity: {usage_limit: {rpu_hours: 100}}
collect: {publisher: serve, publish: true}
metrics:
  - {name: Delay, source: elt_delay}
  - {name: Usage, source: usage_limit_percent}
  - {name: QueriesFailed, source: queries_failed, namespace: AWS/Redshift-Serverless, dimensions: {Workgroup: wg}}
  - {name: QueriesSucceeded, source: queries_succeeded, namespace: AWS/Redshift-Serverless, dimensions: {Workgroup: wg}}
alarms:
  - {name: A, metric: Delay, comparison: GreaterThanThreshold, threshold: 1, topics: [t]}
topics:
  t: {subscriptions: [pd]}
channels:
  pd: {type: pagerduty, routing_key: k}
maintenance:
  - {name: vac, action: vacuum, schedule: "0 4 * * SUN"}
`

// edit replaces old with new in the base spec, failing if old is absent.
func edit(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(baseSpec, old) {
		t.Fatalf("base spec has no %q", old)
	}
	return strings.Replace(baseSpec, old, new, 1)
}

// TestUnexpressibleItemsAreErrors: each item CloudWatch or EventBridge
// cannot express is refused with its name, its place and the reason.
func TestUnexpressibleItemsAreErrors(t *testing.T) {
	alarm := "{name: A, metric: Delay, comparison: GreaterThanThreshold, threshold: 1, topics: [t]}"
	tests := []struct {
		name, old, new string
		item, reason   string
	}{
		{"more than 10 metrics", alarm, "{name: A, expression: QueriesFailed / QueriesSucceeded, statistic: Average, comparison: GreaterThanThreshold, threshold: 1}",
			"alarm A", "needs 16 metrics"},
		{"Metrics Insights past 3 hours", alarm, "{name: A, expression: DIFF(QueriesFailed), statistic: Sum, period: 1h, evaluation_periods: 3, comparison: GreaterThanThreshold, threshold: 1}",
			"alarm A", "last 3 hours"},
		{"Metrics Insights under a minute", alarm, "{name: A, metric: QueriesFailed, statistic: Sum, period: 10s, comparison: GreaterThanThreshold, threshold: 1}",
			"alarm A", "under 60s"},
		{"percentile of the usage limit", alarm, "{name: A, metric: Usage, statistic: p99, comparison: GreaterThanThreshold, threshold: 1}",
			"alarm A", "statistic p99 cannot be computed"},
		{"metric nothing publishes", "{name: Delay, source: elt_delay}", "{name: Delay, source: elt_delay, namespace: AWS/Redshift-Serverless}",
			"alarm A", "AWS does not publish source elt_delay"},
		{"quote in a Metrics Insights dimension", alarm, "{name: A, metric: QueriesFailed, statistic: Sum, dimensions: {Workgroup: \"w'g\"}, comparison: GreaterThanThreshold, threshold: 1}",
			"alarm A", "quote"},
		{"control character in an alarm name", alarm, `{name: "A\nB", metric: Delay, comparison: GreaterThanThreshold, threshold: 1}`,
			`alarm "A\nB"`, "control character"},
		{"cron with both day fields", `"0 4 * * SUN"`, `"0 4 1 * SUN"`, "maintenance job vac", "both day-of-month"},
		{"@every", `"0 4 * * SUN"`, `"@every 1h"`, "maintenance job vac", "@every"},
		{"step in day-of-week", `"0 4 * * SUN"`, `"0 4 * * 1-5/2"`, "maintenance job vac", "step"},
		{"fractional usage limit", "rpu_hours: 100", "rpu_hours: 100.5", "usage limit", "whole number"},
		{"SNS topic name", "t: {subscriptions: [pd]}", "\"t t\": {subscriptions: [pd]}", "topic t t", "SNS topic names"},
		{"dashboard name", "maintenance:", "dashboard: {name: \"my board\"}\nmaintenance:", "dashboard my board", "dashboard names"},
		{"region without Redshift Serverless", "region: ap-northeast-1", "region: me-south-1", "aws.region me-south-1", "Redshift Serverless is not offered in me-south-1"},
		{"region outside the aws partition", "region: ap-northeast-1", "region: cn-north-1", "aws.region cn-north-1", "outside the aws partition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := edit(t, tt.old, tt.new)
			if tt.item == "topic t t" {
				y = strings.Replace(y, "topics: [t]", `topics: ["t t"]`, 1)
			}
			files, err := Terraform(parseSpec(t, y))
			var re *Error
			if !errors.As(err, &re) || files != nil {
				t.Fatalf("want a render error and no files, got %v", err)
			}
			p := re.Problems[0]
			if p.Item != tt.item || !strings.Contains(p.Reason, tt.reason) || p.Pos.File != "test.yaml" || p.Pos.Line == 0 {
				t.Fatalf("got %v", re)
			}
			if !strings.Contains(err.Error(), "test.yaml:") {
				t.Fatalf("the message must name the place in the spec: %v", err)
			}
		})
	}
}

// TestLongAlarmNameIsAnError guards the limit even for a spec changed
// after validation (the validator refuses it first).
func TestLongAlarmNameIsAnError(t *testing.T) {
	s := parseSpec(t, baseSpec)
	s.Alarms[0].Name = strings.Repeat("x", 256)
	_, err := Terraform(s)
	var re *Error
	if !errors.As(err, &re) || !strings.Contains(re.Problems[0].Reason, "at most 255") {
		t.Fatalf("got %v", err)
	}
}

func TestPostgresHasNoAWSForm(t *testing.T) {
	s := parseSpec(t, "platform: p\nwarehouse: {engine: postgres, dsn: postgres://x}\n")
	if _, err := Terraform(s); err == nil || !strings.Contains(err.Error(), "Redshift Serverless") {
		t.Fatalf("got %v", err)
	}
	if _, err := Dashboard(s); err == nil {
		t.Fatal("want an error")
	}
}

func TestEventBridgeCron(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0 4 * * SUN", "cron(0 4 ? * SUN *)"},
		{"0 5 1 * *", "cron(0 5 1 * ? *)"},
		{"*/15 9-17 * * 1-5", "cron(*/15 9-17 ? * MON-FRI *)"},
		{"30 2 * * 0,6", "cron(30 2 ? * SUN,SAT *)"},
		{"0 0 * * 7", "cron(0 0 ? * SUN *)"},
		{"0 0 * * 5-7", "cron(0 0 ? * FRI-SAT,SUN *)"},
		{"0 3 1,15 jan,jul *", "cron(0 3 1,15 JAN,JUL ? *)"},
		{"@daily", "cron(0 0 * * ? *)"},
		{"@weekly", "cron(0 0 ? * SUN *)"},
		{"@monthly", "cron(0 0 1 * ? *)"},
		{"0 0 ? * mon", "cron(0 0 ? * MON *)"},
	}
	for _, tt := range tests {
		got, err := eventBridgeCron(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("%q: got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"0 4 1 * 1", "@every 5m", "0 0 * * */2", "0 0 * *", "@reboot"} {
		if got, err := eventBridgeCron(bad); err == nil {
			t.Errorf("%q: got %q, want an error", bad, got)
		}
	}
}

// TestScheduleZonePrefix: a "TZ=Zone " prefix, which the scheduler
// honours, becomes the schedule's time zone rather than a sixth field.
func TestScheduleZonePrefix(t *testing.T) {
	s := defaultSpec(t)
	var j *spec.Job
	for i := range s.Maintenance {
		if s.Maintenance[i].Name == "weekly-vacuum" {
			j = &s.Maintenance[i]
		}
	}
	j.Schedule, j.Timezone = "TZ=UTC 30 18 * * *", "Asia/Tokyo"
	files, err := Terraform(s)
	if err != nil {
		t.Fatal(err)
	}
	tf := string(files["maintenance.tf"])
	i := strings.Index(tf, `schedule_expression          = "cron(30 18 * * ? *)"`)
	if i < 0 || !strings.Contains(tf[i:], `schedule_expression_timezone = "UTC"`) {
		t.Errorf("maintenance.tf:\n%s", tf)
	}
}

// TestUnknownRegionRendersWithANote: a region newer than dpcops' list is
// not refused (it may well offer every service), but the module README
// says to check.
func TestUnknownRegionRendersWithANote(t *testing.T) {
	files, err := Terraform(parseSpec(t, edit(t, "region: ap-northeast-1", "region: ap-newland-1")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(files["README.md"]), "aws.region ap-newland-1 is not among the regions dpcops knows") {
		t.Errorf("README:\n%s", files["README.md"])
	}
}
