package spec

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/examples"
)

// noEnv is an environment with no variables set.
func noEnv(string) (string, bool) { return "", false }

func envOf(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func mustParse(t *testing.T, file string, data []byte, opts Options) *Spec {
	t.Helper()
	s, diags := Parse(file, data, opts)
	if diags.HasErrors() {
		t.Fatalf("unexpected errors:\n%s", diags.Errors())
	}
	return s
}

func TestExamplesAreValidWithoutWarnings(t *testing.T) {
	for name, data := range map[string][]byte{
		"dpc-learning.yaml":   examples.DPCLearning,
		"local-postgres.yaml": examples.LocalPostgres,
		"demo.yaml":           examples.Demo,
	} {
		t.Run(name, func(t *testing.T) {
			for _, env := range []func(string) (string, bool){noEnv, envOf(
				"SLACK_WEBHOOK_URL", "https://hooks.slack.test/services/T0/B0/xyz",
				"PD_ROUTING_KEY", "pdkey", "OPSGENIE_API_KEY", "ogkey",
				"DPCOPS_SMTP_ADDR", "127.0.0.1:2525", "DPCOPS_EMAIL_TO", "oncall@example.org",
				"DPCOPS_WAREHOUSE_DSN", "postgres://u@h/db",
			)} {
				_, diags := Parse(name, data, Options{LookupEnv: env})
				if len(diags) != 0 {
					t.Errorf("want no diagnostics, got:\n%s", diags)
				}
			}
		})
	}
}

func TestDefaultIsTheDPCLearningExample(t *testing.T) {
	b, err := os.ReadFile("../../examples/dpc-learning.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(DefaultYAML()) != string(b) {
		t.Fatal("DefaultYAML differs from examples/dpc-learning.yaml")
	}
}

// TestDefaultSpecIsTheSeed checks the built-in spec against the seed's
// design, item by item.
func TestDefaultSpecIsTheSeed(t *testing.T) {
	s, diags := Default(Options{LookupEnv: noEnv})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if s.Timezone != "Asia/Tokyo" || s.Capacity.BaseRPU != 8 || s.Capacity.MaxRPU != 32 ||
		s.Capacity.PricePerRPUHour != 0.494 || s.Capacity.UsageLimit == nil ||
		s.Capacity.UsageLimit.Period != "monthly" || s.Capacity.UsageLimit.NotifyAtPercent != 80 {
		t.Errorf("capacity/timezone not the seed's: %+v tz=%s", s.Capacity, s.Timezone)
	}
	type want struct {
		metric, expr, stat, cmp string
		threshold               float64
		period                  time.Duration
		n, m                    int
		channels                []string
	}
	alerts := map[string]want{
		"Alert-ELT-Delay":           {"ELTExecutionDelay", "", "Maximum", "GreaterThanThreshold", 90, 5 * time.Minute, 2, 2, []string{"inbox", "slack", "pagerduty"}},
		"Alert-COPY-Error":          {"CopyErrorCount", "", "Sum", "GreaterThanOrEqualToThreshold", 1, 5 * time.Minute, 1, 1, []string{"inbox", "slack", "opsgenie"}},
		"Alert-Storage-High":        {"", "100 * DataStorage / 1048576", "Maximum", "GreaterThanOrEqualToThreshold", 90, time.Hour, 1, 1, []string{"inbox", "slack", "email"}},
		"Alert-RPU-Spike":           {"RPUPerMinute", "", "Maximum", "GreaterThanThreshold", 28, time.Minute, 5, 5, []string{"inbox", "slack"}},
		"Alert-Query-Failure":       {"", "DIFF(QueriesFailed)", "Sum", "GreaterThanThreshold", 0, 5 * time.Minute, 3, 3, []string{"inbox", "slack"}},
		"Review-Query-Failure-Rate": {"", "100 * QueriesFailed / (QueriesFailed + QueriesSucceeded)", "Sum", "GreaterThanThreshold", 5, time.Hour, 1, 1, []string{"inbox", "slack"}},
		"Review-Idle-Share":         {"IdlePercent", "", "Average", "LessThanThreshold", 30, 24 * time.Hour, 1, 1, []string{"inbox", "slack"}},
		"Review-Table-Skew":         {"table_skew_percent", "", "Maximum", "GreaterThanThreshold", 20, time.Hour, 1, 1, []string{"inbox", "slack"}},
		"Review-Usage-Limit":        {"UsageLimitPercent", "", "Maximum", "GreaterThanOrEqualToThreshold", 80, time.Hour, 1, 1, []string{"inbox", "slack"}},
		// Not in the seed: the capacity lease's own alarm (a raise left
		// in place is a silent cost leak).
		"Alert-Capacity-Lease": {"CapacityLeaseProblem", "", "Maximum", "GreaterThanThreshold", 0, 5 * time.Minute, 1, 1, []string{"inbox", "slack"}},
		// dpcops watching itself: a blind dpcops pages, failing
		// deliveries go by email too (Slack may be what fails).
		"dpcops-Collector-Failing":  {"CollectorFailedCycles", "", "Maximum", "GreaterThanOrEqualToThreshold", 3, time.Minute, 1, 1, []string{"inbox", "slack", "pagerduty"}},
		"dpcops-Deliveries-Failing": {"DeliveriesFailing", "", "Maximum", "GreaterThanThreshold", 0, 5 * time.Minute, 1, 1, []string{"inbox", "slack", "email"}},
	}
	if len(s.Alarms) != len(alerts) {
		t.Errorf("want %d alarms, got %d", len(alerts), len(s.Alarms))
	}
	for _, a := range s.Alarms {
		w, ok := alerts[a.Name]
		if !ok {
			t.Errorf("unexpected alarm %s", a.Name)
			continue
		}
		if a.Metric != w.metric || a.Expression != w.expr || a.Statistic != w.stat || a.Comparison != w.cmp ||
			*a.Threshold != w.threshold || a.Period.D() != w.period || a.EvaluationPeriods != w.n || a.DatapointsToAlarm != w.m {
			t.Errorf("alarm %s = %+v (threshold %v), want %+v", a.Name, a, *a.Threshold, w)
		}
		if got := routedChannels(s, a.Name); !slices.Equal(got, w.channels) {
			t.Errorf("alarm %s routes to %v, want %v", a.Name, got, w.channels)
		}
		isReview := strings.HasPrefix(a.Name, "Review-")
		if isReview && (a.Severity == "critical" || a.Severity == "error") {
			t.Errorf("review alarm %s has severity %s; want a lower one", a.Name, a.Severity)
		}
	}
	if a, _ := s.Alarm("Alert-ELT-Delay"); !slices.Equal(a.Actions, []string{"rerun-pipeline"}) {
		t.Errorf("Alert-ELT-Delay actions = %v", a.Actions)
	}
	if len(s.Topics) != 1 || s.Topics[0].Name != "dpc-alerts" {
		t.Errorf("want the one topic dpc-alerts, got %+v", s.Topics)
	}
	if ch, _ := s.Channel("slack"); ch.Channel != "#dpc-alerts" {
		t.Errorf("slack channel = %q", ch.Channel)
	}
	if len(s.Dashboard.Widgets) != 5 {
		t.Fatalf("want the seed's 5 widgets, got %d", len(s.Dashboard.Widgets))
	}
	for i, w := range s.Dashboard.Widgets {
		if w.Properties.Region != "ap-northeast-1" {
			t.Errorf("widget %d has no region", i)
		}
	}
	if q := s.Dashboard.Widgets[4].Properties.Query; !strings.Contains(q, "/dpcops/dpc-learning/errors") || !strings.Contains(q, "limit 20") {
		t.Errorf("log widget query %q", q)
	}
	jobs := map[string]string{}
	for _, j := range s.Maintenance {
		jobs[j.Name] = j.Action + "|" + j.Schedule + "|" + j.After + "|" + j.Mode
	}
	for name, want := range map[string]string{
		"analyze-after-pipeline":      "analyze||pipeline_success|auto",
		"weekly-vacuum":               "vacuum|0 4 * * SUN||auto",
		"monthly-analyze-compression": "analyze_compression|0 5 1 * *||auto",
		"vacuum-full-unused-space":    "vacuum_full|||manual",
		"analyze-after-large-load":    "analyze||pipeline_success|manual",
		"raise-rpu-limit":             "capacity_review|||manual",
	} {
		if jobs[name] != want {
			t.Errorf("job %s = %q, want %q", name, jobs[name], want)
		}
	}
	if j, _ := s.Job("vacuum-full-unused-space"); j.When.Threshold != 20 || j.When.Metric != "unused_percent" {
		t.Errorf("VACUUM FULL condition %+v", j.When)
	}
	if j, _ := s.Job("analyze-after-large-load"); j.When.Threshold != 1e8 {
		t.Errorf("large-load condition %+v", j.When)
	}
	if len(s.QMR) != 1 || s.QMR[0].Threshold != 600 || s.QMR[0].Action != "notify" {
		t.Errorf("QMR = %+v", s.QMR)
	}
}

// routedChannels lists the channels a message about alarm reaches.
func routedChannels(s *Spec, alarm string) []string {
	a, _ := s.Alarm(alarm)
	var out []string
	for _, tn := range a.Topics {
		t, _ := s.Topic(tn)
		for _, sub := range t.Subscriptions {
			if sub.Matches(map[string]string{"alarm": a.Name, "severity": a.Severity, "state": "ALARM"}) {
				out = append(out, sub.Channel)
			}
		}
	}
	return out
}

func TestSeedMistakesAreWarnings(t *testing.T) {
	data, err := os.ReadFile("testdata/seed-mistakes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, diags := Parse("seed.yaml", data, Options{LookupEnv: noEnv})
	if diags.HasErrors() {
		t.Fatalf("want warnings only, got errors:\n%s", diags.Errors())
	}
	text := diags.Error()
	for _, want := range []string{
		"seed.yaml:13:15: warning: Redshift Serverless has no auto-pause setting",
		"seed.yaml:15:12: warning: AWS does not publish a metric named RPUConsumption; use ComputeCapacity",
		"seed.yaml:16:12: warning: AWS does not publish a metric named RPUCapacity",
		"seed.yaml:17:12: warning: AWS does not publish a metric named SuccessfulQueryCount; use QueriesSucceeded",
		"seed.yaml:18:12: warning: AWS does not publish a metric named FailedQueryCount; use QueriesFailed",
		"seed.yaml:19:12: warning: AWS does not publish a metric named UsedStorage; use DataStorage",
		"seed.yaml:20:12: warning: AWS does not publish a metric named ServerlessDatabaseStatus",
		"seed.yaml:15:65: warning: Redshift Serverless publishes its metrics under AWS/Redshift-Serverless",
		"seed.yaml:24:10: warning: Redshift Serverless does not let you query STL_LOAD_ERRORS",
		"seed.yaml:33:21: warning: CloudWatch requires region on metric widgets",
		"seed.yaml:36:11: warning: AWS does not publish a metric named RPUConsumption",
		"seed.yaml:95:21: warning: CloudWatch requires region on log widgets",
		"seed.yaml:96:18: warning: log group /aws/redshift-serverless/workgroup/dpc-learning does not exist: Redshift Serverless exports logs to /aws/redshift/dpc-learning/useractivitylog",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing warning %q", want)
		}
	}
}

const base = `platform: p
warehouse: {engine: postgres, dsn: "postgres://h/db"}
metrics:
  - {name: M, source: load_errors}
topics:
  t: {subscriptions: [inbox]}
channels:
  inbox: {type: inbox}
`

// TestErrors proves each class of bad input with its exact position.
func TestErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"malformed YAML", "platform: p\nalarms: [a, b\nmetrics: []\n",
			"x.yaml:3:8: error: malformed YAML: while parsing a flow sequence: did not find expected ',' or ']'"},
		{"tab indentation", "platform: p\nalarms:\n\t- x\n", "x.yaml:3:1: error: malformed YAML"},
		{"not a mapping", "- a\n- b\n", "x.yaml:1:1: error: the spec must be a mapping of sections"},
		{"empty", "", "x.yaml:1:1: error: the spec is empty"},
		{"unknown top-level key", base + "alarmz: []\n", "x.yaml:9:1: error: unknown key \"alarmz\" in the spec (did you mean \"alarms\"?)"},
		{"unknown nested key", base + "alarms:\n  - {name: a, metric: M, threshold: 1, comparison: GreaterThanThreshold, treshold: 2}\n",
			"x.yaml:10:74: error: unknown key \"treshold\" in alarms[0] (did you mean \"threshold\"?)"},
		{"repeated key", base + "platform: q\n", "x.yaml:9:1: error: the spec: key \"platform\" repeated (first at line 1)"},
		{"wrong type: string for number", base + "alarms:\n  - name: a\n    metric: M\n    comparison: GreaterThanThreshold\n    threshold: lots\n",
			"x.yaml:13:16: error: alarms[0].threshold: want a finite number, got \"lots\""},
		{"wrong type: NaN threshold", base + "alarms:\n  - {name: a, metric: M, comparison: GreaterThanThreshold, threshold: .nan}\n",
			"x.yaml:10:71: error: alarms[0].threshold: want a finite number"},
		{"wrong type: mapping for list", base + "qmr: {a: 1}\n", "x.yaml:9:6: error: qmr: want a list, got a mapping"},
		{"wrong type: bool", base + "pipeline: {rerun: maybe}\n", "x.yaml:9:19: error: pipeline.rerun: want true or false, got \"maybe\""},
		{"wrong type: int", base + "capacity: {base_rpu: 8.5}\n", "x.yaml:9:22: error: capacity.base_rpu: want a whole number, got \"8.5\""},
		{"bad duration", base + "collect: {interval: 5 minutes}\n", "x.yaml:9:21: error: collect.interval: invalid duration \"5 minutes\""},
		{"alarm → metric", base + "alarms:\n  - {name: a, metric: N, comparison: GreaterThanThreshold, threshold: 1}\n",
			"x.yaml:10:23: error: alarm a names metric \"N\", which is not defined in metrics"},
		{"alarm → metric in expression", base + "alarms:\n  - {name: a, expression: \"DIFF(Q)\", comparison: GreaterThanThreshold, threshold: 1}\n",
			"x.yaml:10:27: error: expression \"DIFF(Q)\" names \"Q\", which is not defined in metrics"},
		{"bad expression", base + "alarms:\n  - {name: a, expression: \"M +\", comparison: GreaterThanThreshold, threshold: 1}\n",
			"x.yaml:10:27: error: expression \"M +\": at column 4: unexpected end of expression"},
		{"alarm → topic", base + "alarms:\n  - {name: a, metric: M, comparison: GreaterThanThreshold, threshold: 1, topics: [nope]}\n",
			"x.yaml:10:83: error: alarm a names topic \"nope\", which is not defined in topics"},
		{"topic → channel", strings.Replace(base, "[inbox]", "[inbox, slak]", 1),
			"x.yaml:6:30: error: topic t subscribes channel \"slak\", which is not defined in channels"},
		{"widget → metric", base + "dashboard:\n  widgets:\n    - {type: metric, properties: {region: r, metrics: [[Custom/DPC, Nope]]}}\n",
			"x.yaml:11:56: error: widget names metric Custom/DPC Nope, which is not defined in metrics"},
		{"period not allowed", base + "alarms:\n  - {name: a, metric: M, comparison: GreaterThanThreshold, threshold: 1, period: 45s}\n",
			"x.yaml:10:82: error: period must be 10s, 20s, 30s or a multiple of 60s, got 45s"},
		{"M greater than N", base + "alarms:\n  - {name: a, metric: M, comparison: GreaterThanThreshold, threshold: 1, evaluation_periods: 2, datapoints_to_alarm: 3}\n",
			"x.yaml:10:118: error: datapoints_to_alarm must be between 1 and evaluation_periods (2), got 3"},
		{"period × N over a day", base + "alarms:\n  - {name: a, metric: M, comparison: GreaterThanThreshold, threshold: 1, period: 5m, evaluation_periods: 289}\n",
			"x.yaml:10:106: error: period × evaluation_periods is 86700s; CloudWatch allows at most 1 day"},
		{"period × N over a week", base + "alarms:\n  - {name: a, metric: M, comparison: GreaterThanThreshold, threshold: 1, period: 1h, evaluation_periods: 169}\n",
			"x.yaml:10:106: error: period × evaluation_periods is 608400s; CloudWatch allows at most 7 days"},
		{"unknown comparison", base + "alarms:\n  - {name: a, metric: M, comparison: GreaterThan, threshold: 1}\n",
			"x.yaml:10:38: error: unknown comparison \"GreaterThan\""},
		{"unknown statistic", base + "alarms:\n  - {name: a, metric: M, comparison: GreaterThanThreshold, threshold: 1, statistic: Mean}\n",
			"x.yaml:10:85: error: unknown statistic \"Mean\""},
		{"percentile out of range", base + "alarms:\n  - {name: a, metric: M, comparison: GreaterThanThreshold, threshold: 1, statistic: p100}\n",
			"x.yaml:10:85: error: unknown statistic \"p100\""},
		{"allowed host with a scheme", base + "serve: {allowed_hosts: [ok.example.org, \"https://dpcops.example.org\"]}\n",
			"x.yaml:9:41: error: allowed_hosts takes host names only (no scheme, port or path), such as dpcops.example.org, got \"https://dpcops.example.org\""},
		{"heartbeat without a url", base + "notify: {heartbeat: {interval: 1m}}\n",
			"x.yaml:9:21: error: heartbeat needs url (or url_file)"},
		{"heartbeat url not http", base + "notify: {heartbeat: {url: \"ftp://hc.example/secret-uuid\"}}\n",
			"x.yaml:9:27: error: heartbeat url must be an http:// or https:// address"},
		{"heartbeat too often", base + "notify: {heartbeat: {url: \"https://hc.example/u\", interval: 5s}}\n",
			"x.yaml:9:61: error: heartbeat interval must be at least 10s"},
		{"short token", base + "serve: {token: short}\n",
			"x.yaml:9:16: error: token must be at least 16 characters"},
		{"external URL without a scheme", base + "serve: {external_url: dpcops.example.org}\n",
			"x.yaml:9:23: error: external_url must be an http:// or https:// address, got \"dpcops.example.org\""},
		{"percentile spelt as NaN", base + "alarms:\n  - {name: a, metric: M, comparison: GreaterThanThreshold, threshold: 1, statistic: pNaN}\n",
			"x.yaml:10:85: error: unknown statistic \"pNaN\""},
		{"percentile with an exponent", base + "alarms:\n  - {name: a, metric: M, comparison: GreaterThanThreshold, threshold: 1, statistic: p1e1}\n",
			"x.yaml:10:85: error: unknown statistic \"p1e1\""},
		{"unknown missing-data treatment", base + "alarms:\n  - {name: a, metric: M, comparison: GreaterThanThreshold, threshold: 1, treat_missing_data: zero}\n",
			"x.yaml:10:94: error: unknown treat_missing_data \"zero\""},
		{"missing threshold", base + "alarms:\n  - {name: a, metric: M, comparison: GreaterThanThreshold}\n",
			"x.yaml:10:5: error: alarm a needs a threshold"},
		{"invalid cron", base + "maintenance:\n  - {name: v, action: vacuum, schedule: \"0 25 * * *\"}\n",
			"x.yaml:10:41: error: invalid cron expression \"0 25 * * *\""},
		{"unknown time zone", base + "timezone: Asia/Nowhere\n", "x.yaml:9:11: error: unknown time zone \"Asia/Nowhere\""},
		{"job time zone", base + "maintenance:\n  - {name: v, action: vacuum, schedule: \"@daily\", timezone: Mars/Base}\n",
			"x.yaml:10:61: error: unknown time zone \"Mars/Base\""},
		{"base RPU step", base + "capacity: {base_rpu: 12}\n", "x.yaml:9:22: error: base_rpu must be 8 to 512 in steps of 8 (or 4), got 12"},
		{"base RPU too large", base + "capacity: {base_rpu: 520, max_rpu: 600}\n", "x.yaml:9:22: error: base_rpu must be 8 to 512"},
		{"base over max", base + "capacity: {base_rpu: 64, max_rpu: 32}\n", "x.yaml:9:35: error: max_rpu (32) must be at least base_rpu (64)"},
		{"unset variable", strings.Replace(base, `"postgres://h/db"`, `"${NO_SUCH_DSN}"`, 1),
			"x.yaml:2:36: error: environment variable NO_SUCH_DSN is not set (used by warehouse.dsn)"},
		{"DSN that does not parse", strings.Replace(base, `"postgres://h/db"`, `"postgres://user:pw@host:notaport/dpc"`, 1),
			"x.yaml:2:36: error: warehouse.dsn does not parse as a PostgreSQL connection string: invalid port"},
		{"keyword/value DSN that does not parse", strings.Replace(base, `"postgres://h/db"`, `"host=h dbname"`, 1),
			"x.yaml:2:36: error: warehouse.dsn does not parse as a PostgreSQL connection string: failed to parse as keyword/value: invalid keyword/value"},
		{"repeated alarm name", base + "alarms:\n  - {name: a, metric: M, comparison: GreaterThanThreshold, threshold: 1}\n  - {name: a, metric: M, comparison: GreaterThanThreshold, threshold: 2}\n",
			"x.yaml:11:12: error: alarm name \"a\" repeated (first at x.yaml:10:12)"},
		{"channel key of another type", base + "  s: {type: slack, webhook_url: \"https://h/x\", routing_key: k}\n",
			"x.yaml:9:61: error: key routing_key does not apply to a slack channel"},
		{"channel URL not http", base + "  s: {type: slack, webhook_url: \"ftp://h/x\"}\n",
			"x.yaml:9:33: error: webhook_url is not an http(s) URL"},
		{"widget off the grid", base + "dashboard:\n  widgets:\n    - {type: text, x: 20, width: 6, properties: {markdown: hi}}\n",
			"x.yaml:11:34: error: width must be 1 to 24 and x + width at most 24"},
		{"missing warehouse", "platform: p\n", "x.yaml:1:1: error: the warehouse section is required"},
		{"merge key", base + "alarms:\n  - <<: {name: a}\n", "x.yaml:10:5: error: alarms[0]: merge keys (<<) are not supported"},
		{"inhibit source dangling", base + "alarms:\n  - {name: A, metric: M, comparison: GreaterThanThreshold, threshold: 1}\n  - {name: B, metric: M, comparison: GreaterThanThreshold, threshold: 1}\nnotify: {inhibit: [{source: [Nope], target: [B]}]}\n",
			"x.yaml:12:30: error: inhibit source \"Nope\" is not an alarm of the spec"},
		{"inhibit target glob matching nothing", base + "alarms:\n  - {name: A, metric: M, comparison: GreaterThanThreshold, threshold: 1}\n  - {name: B, metric: M, comparison: GreaterThanThreshold, threshold: 1}\nnotify: {inhibit: [{source: [A], target: [Review-*]}]}\n",
			"x.yaml:12:43: error: inhibit target \"Review-*\" matches no alarm of the spec"},
		{"inhibit itself", base + "alarms:\n  - {name: A, metric: M, comparison: GreaterThanThreshold, threshold: 1}\n  - {name: B, metric: M, comparison: GreaterThanThreshold, threshold: 1}\nnotify: {inhibit: [{source: [A], target: [\"*\"]}]}\n",
			"x.yaml:12:43: error: alarm A would inhibit itself"},
		{"window overlapping itself", base + "alarms:\n  - {name: A, metric: M, comparison: GreaterThanThreshold, threshold: 1}\nmaintenance_windows:\n  - {name: w, schedule: \"0 * * * *\", duration: 2h, alarms: [A]}\n",
			"x.yaml:12:48: error: window w opens again 1h0m0s after it opened and lasts 2h: it would overlap itself"},
		{"window zone", base + "alarms:\n  - {name: A, metric: M, comparison: GreaterThanThreshold, threshold: 1}\nmaintenance_windows:\n  - {name: w, schedule: \"0 4 * * SUN\", timezone: Asia/Nowhere, duration: 2h, alarms: [A]}\n",
			"x.yaml:12:50: error: unknown time zone \"Asia/Nowhere\""},
		{"window @every", base + "alarms:\n  - {name: A, metric: M, comparison: GreaterThanThreshold, threshold: 1}\nmaintenance_windows:\n  - {name: w, schedule: \"@every 2h\", duration: 2h, alarms: [A]}\n",
			"error: a window opens at times of day: write a five-field cron expression, not \"@every 2h\""},
		{"window without a duration", base + "alarms:\n  - {name: A, metric: M, comparison: GreaterThanThreshold, threshold: 1}\nmaintenance_windows:\n  - {name: w, schedule: \"0 4 * * SUN\", alarms: [A]}\n",
			"error: a window lasts more than 0 and at most 168h0m0s, got 0s"},
		{"window alarm dangling", base + "alarms:\n  - {name: A, metric: M, comparison: GreaterThanThreshold, threshold: 1}\nmaintenance_windows:\n  - {name: w, schedule: \"0 4 * * SUN\", duration: 2h, alarms: [B]}\n",
			"error: window w: \"B\" matches no alarm of the spec (its alarms: A)"},
		{"job silence dangling", base + "alarms:\n  - {name: A, metric: M, comparison: GreaterThanThreshold, threshold: 1}\nmaintenance:\n  - {name: v, action: vacuum, schedule: \"0 4 * * SUN\", silence: [Nope]}\n",
			"error: job v: \"Nope\" matches no alarm of the spec (its alarms: A)"},
		{"inhibit cycle", base + "alarms:\n  - {name: A, metric: M, comparison: GreaterThanThreshold, threshold: 1}\n  - {name: B, metric: M, comparison: GreaterThanThreshold, threshold: 1}\nnotify: {inhibit: [{source: [A], target: [B]}, {source: [B], target: [A]}]}\n",
			"x.yaml:12:19: error: inhibit rules hold back each other in a circle (A → B → A)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, diags := Parse("x.yaml", []byte(tt.yaml), Options{LookupEnv: noEnv})
			if !diags.HasErrors() {
				t.Fatalf("want an error, got none (%v)", diags)
			}
			if !strings.Contains(diags.Error(), tt.want) {
				t.Errorf("want %q in:\n%s", tt.want, diags)
			}
			_ = s
		})
	}
}

// TestDSNCheck parses the warehouse DSN as dpcops will connect with it:
// a DSN that cannot parse fails at its line, and the message never
// shows the password, wherever the malformed string puts it. A ${VAR}
// that is unset or empty keeps the message it had before the check.
func TestDSNCheck(t *testing.T) {
	const spec = "platform: p\nwarehouse:\n  engine: postgres\n  dsn: ${DSN}\n"
	for _, tc := range []struct{ name, dsn, want string }{
		{"URL", "postgres://dpcops:S3cretPw@db.example.org:5432/dpc?sslmode=require", ""},
		{"keyword/value", "host=db.example.org port=5432 user=dpcops password='S3cretPw' dbname=dpc", ""},
		{"port not a number", "postgres://dpcops:S3cretPw@db:notaport/dpc", "x.yaml:4:8: error: warehouse.dsn does not parse as a PostgreSQL connection string: invalid port"},
		{"port out of range", "postgres://dpcops:S3cretPw@db:99999/dpc", "invalid port"},
		{"password where the port goes", "postgres://dpcops:S3cretPw/dpc", "invalid port"},
		{"bad escape in the password", "postgres://dpcops:S3cret%ZZPw@db/dpc", "failed to parse as URL"},
		{"space in the password", "postgres://dpcops:S3cret Pw@db/dpc", "failed to parse as URL"},
		{"stray character", "postgres://dpcops:pw@db/dpc?S3cretPw", `failed to parse as URL: a query parameter without "="`},
		{"unclosed IPv6 host", "postgres://dpcops:S3cretPw@[::1/dpc", `failed to parse as URL: end of string reached`},
		{"password without its keyword", "host=db S3cretPw dbname=dpc", "failed to parse as keyword/value"},
		{"unterminated quote", "host=db password='S3cretPw", "unterminated quoted string"},
		{"unknown sslmode", "host=db password=S3cretPw sslmode=always", "sslmode is invalid"},
		{"bad connect_timeout", "postgres://dpcops:S3cretPw@db/dpc?connect_timeout=soon", "invalid connect_timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := Parse("x.yaml", []byte(spec), Options{LookupEnv: envOf("DSN", tc.dsn)})
			text := diags.Error()
			if tc.want == "" {
				if diags.HasErrors() {
					t.Fatalf("want no error, got:\n%s", text)
				}
				return
			}
			if !strings.Contains(text, tc.want) || !strings.HasPrefix(text, "x.yaml:4:8: error: warehouse.dsn does not parse") {
				t.Errorf("want x.yaml:4:8 and %q in:\n%s", tc.want, text)
			}
			for _, secret := range []string{"S3cret", "Pw@", "%ZZ"} {
				if strings.Contains(text, secret) {
					t.Errorf("the message shows the password (%q):\n%s", secret, text)
				}
			}
		})
	}
	// An unset or empty variable is reported as before, not as a DSN that
	// does not parse.
	_, diags := Parse("x.yaml", []byte(spec), Options{LookupEnv: noEnv})
	if text := diags.Error(); !strings.Contains(text, "x.yaml:4:8: error: environment variable DSN is not set") || strings.Contains(text, "does not parse") {
		t.Errorf("unset:\n%s", text)
	}
	_, diags = Parse("x.yaml", []byte(spec), Options{LookupEnv: envOf("DSN", "")})
	if text := diags.Error(); !strings.Contains(text, "warehouse.dsn is required for engine postgres") || strings.Contains(text, "does not parse") {
		t.Errorf("empty:\n%s", text)
	}
}

func TestEnvironmentExpansion(t *testing.T) {
	tests := []struct {
		in, want string
		missing  []string
	}{
		{"plain", "plain", nil},
		{"${A}", "a", nil},
		{"x-${A}-${B}", "x-a-", []string{"B"}},
		{"${B:-dflt}", "dflt", nil},
		{"${EMPTY:-dflt}", "dflt", nil},
		{"${EMPTY}", "", nil},
		{"$$5 and $5", "$5 and $5", nil},
		{"${B:-}", "", nil},
	}
	env := envOf("A", "a", "EMPTY", "")
	for _, tt := range tests {
		got, missing, err := expandEnv(tt.in, env)
		if err != nil || got != tt.want || !slices.Equal(missing, tt.missing) {
			t.Errorf("expand(%q) = %q, %v, %v; want %q, %v", tt.in, got, missing, err, tt.want, tt.missing)
		}
	}
	for _, bad := range []string{"${A", "${1X}", "${A B}"} {
		if _, _, err := expandEnv(bad, env); err == nil {
			t.Errorf("expand(%q): want an error", bad)
		}
	}
}

func TestEnabledControlsUnsetVariables(t *testing.T) {
	spec := base + `  off: {type: slack, enabled: false, webhook_url: "${UNSET_A}"}
  maybe: {type: pagerduty, enabled: if-set, routing_key: "${UNSET_B}"}
  present: {type: pagerduty, enabled: if-set, routing_key: "${SET_C}"}
`
	s, diags := Parse("x.yaml", []byte(spec), Options{LookupEnv: envOf("SET_C", "key")})
	if diags.HasErrors() {
		t.Fatalf("unset variables in parts that are off must not be errors:\n%s", diags)
	}
	off, _ := s.Channel("off")
	maybe, _ := s.Channel("maybe")
	present, _ := s.Channel("present")
	if off.Enabled.On() || maybe.Enabled.On() || !present.Enabled.On() {
		t.Errorf("enabled: off=%v maybe=%v present=%v", off.Enabled.On(), maybe.Enabled.On(), present.Enabled.On())
	}
	if got := maybe.Enabled.Reason(); !strings.Contains(got, "UNSET_B") {
		t.Errorf("reason %q should name the variable", got)
	}
	if present.RoutingKey.Reveal() != "key" {
		t.Errorf("routing key not expanded")
	}
	// The same channel turned on explicitly: the unset variable is an error.
	spec2 := base + "  on: {type: pagerduty, enabled: true, routing_key: \"${UNSET_B}\"}\n"
	_, diags = Parse("x.yaml", []byte(spec2), Options{LookupEnv: noEnv})
	if !strings.Contains(diags.Error(), "x.yaml:9:53: error: environment variable UNSET_B is not set (used by channels.on.routing_key)") {
		t.Errorf("got:\n%s", diags)
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	const secret = "xoxb-very-secret-token"
	spec := base + "  s: {type: slack, webhook_url: \"${HOOK}\"}\n  p: {type: pagerduty, routing_key: \"${HOOK}\", url: \"not a url ${HOOK}\"}\n"
	s, diags := Parse("x.yaml", []byte(spec), Options{LookupEnv: envOf("HOOK", secret)})
	ch, _ := s.Channel("s")
	for _, text := range []string{
		fmt.Sprintf("%v %+v %#v %s", ch, *ch, ch.WebhookURL, ch.WebhookURL),
		diags.Error(),
	} {
		if strings.Contains(text, secret) {
			t.Errorf("secret printed: %s", text)
		}
	}
	if ch.WebhookURL.Reveal() != secret {
		t.Errorf("Reveal() lost the value")
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/key", []byte("  file-key\n"), 0o600)
	spec := base + "  p: {type: pagerduty, routing_key_file: " + dir + "/key}\n  q: {type: pagerduty, routing_key_file: " + dir + "/missing}\n"
	s, diags := Parse("x.yaml", []byte(spec), Options{LookupEnv: noEnv})
	p, _ := s.Channel("p")
	if p.RoutingKey.Reveal() != "file-key" {
		t.Errorf("routing_key_file not read: %q", p.RoutingKey.Reveal())
	}
	if !strings.Contains(diags.Error(), "x.yaml:10:42: error: cannot read routing_key_file: open "+dir+"/missing") {
		t.Errorf("got:\n%s", diags)
	}
	os.WriteFile(dir+"/token", []byte("serve-token-from-a-file\n"), 0o600)
	s = mustParse(t, "x.yaml", []byte(base+"serve: {token_file: "+dir+"/token}\n"), Options{LookupEnv: noEnv})
	if s.Serve.Token.Reveal() != "serve-token-from-a-file" {
		t.Errorf("serve.token_file not read: %q", s.Serve.Token.Reveal())
	}
}

func TestDefaultsAreApplied(t *testing.T) {
	s := mustParse(t, "x.yaml", []byte(base+"alarms:\n  - {name: a, metric: M, comparison: GreaterThanThreshold, threshold: 1, evaluation_periods: 3}\n"), Options{LookupEnv: noEnv})
	a := s.Alarms[0]
	if a.DatapointsToAlarm != 3 || a.Statistic != "Average" || a.TreatMissingData != "missing" || a.Period.D() != 5*time.Minute || a.Severity != "warning" {
		t.Errorf("alarm defaults: %+v", a)
	}
	if s.Collect.Interval.D() != time.Minute || s.Collect.Retention.D() != 15*24*time.Hour || s.Serve.Listen != DefaultListen ||
		s.Timezone != "Asia/Tokyo" || s.Notify.MaxAge.D() != 24*time.Hour || s.Metrics[0].Unit != "Count" {
		t.Errorf("spec defaults: %+v", s)
	}
}

func TestMetricRowsRepeatWithDot(t *testing.T) {
	spec := strings.Replace(base, "metrics:\n", "metrics:\n  - {name: N, source: queries_failed}\n", 1) + `dashboard:
  widgets:
    - type: metric
      properties:
        region: r
        metrics:
          - [Custom/DPC, M, Environment, prod, {label: m, stat: Sum}]
          - [".", N, ".", "."]
          - [{expression: "M + N", label: total, id: e1}]
`
	s := mustParse(t, "x.yaml", []byte(spec), Options{LookupEnv: noEnv})
	rows := s.Dashboard.Widgets[0].Properties.Metrics
	if len(rows) != 3 || rows[1].Namespace != "Custom/DPC" || rows[1].MetricName != "N" ||
		rows[1].Dimensions.Canonical() != "Environment=prod" || rows[0].Options.Stat != "Sum" ||
		rows[2].Expression != "M + N" || rows[2].Options.ID != "e1" {
		t.Errorf("rows = %+v", rows)
	}
}

func TestSubscriptionFilters(t *testing.T) {
	sub := Subscription{Channel: "pd", Filter: []Filter{{Key: "alarm", Values: []string{"A", "B"}}, {Key: "severity", Values: []string{"critical"}}}}
	for _, tt := range []struct {
		attrs map[string]string
		want  bool
	}{
		{map[string]string{"alarm": "A", "severity": "critical"}, true},
		{map[string]string{"alarm": "B", "severity": "critical"}, true},
		{map[string]string{"alarm": "C", "severity": "critical"}, false},
		{map[string]string{"alarm": "A", "severity": "info"}, false},
		{map[string]string{"alarm": "A"}, false},
	} {
		if got := sub.Matches(tt.attrs); got != tt.want {
			t.Errorf("Matches(%v) = %v", tt.attrs, got)
		}
	}
	if !(Subscription{Channel: "x"}).Matches(nil) {
		t.Error("a subscription without a filter takes every message")
	}
}

func TestDurationSyntax(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90s": 90 * time.Second, "5m": 5 * time.Minute, "300": 5 * time.Minute, "15d": 15 * 24 * time.Hour, "1h30m": 90 * time.Minute,
	} {
		got, err := ParseDuration(in)
		if err != nil || got.D() != want {
			t.Errorf("ParseDuration(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "-5m", "5 m", "1w", "1.5d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q): want an error", bad)
		}
	}
	for d, want := range map[time.Duration]string{90 * time.Second: "1m30s", 5 * time.Minute: "5m", time.Hour: "1h", 48 * time.Hour: "2d"} {
		if got := Duration(d).String(); got != want {
			t.Errorf("Duration(%v).String() = %q, want %q", d, got, want)
		}
	}
}

// FuzzParse feeds the loader arbitrary specs: it must never panic, and
// every diagnostic must carry a position.
func FuzzParse(f *testing.F) {
	f.Add(examples.DPCLearning)
	f.Add(examples.LocalPostgres)
	f.Add([]byte(base))
	if b, err := os.ReadFile("testdata/seed-mistakes.yaml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("platform: ${A:-${B}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, diags := Parse("f.yaml", data, Options{LookupEnv: envOf("A", "1")})
		for _, d := range diags {
			if d.Pos.Line < 1 || d.Pos.Col < 1 || d.Message == "" {
				t.Fatalf("diagnostic without position or message: %#v", d)
			}
		}
	})
}

// TestOverlappingWindowsWarn: two windows open at once over the same
// alarm is a warning that names both and the alarm; the spec still loads.
func TestOverlappingWindowsWarn(t *testing.T) {
	y := `platform: p
warehouse: {engine: postgres, dsn: "postgres://h/db"}
metrics: [{name: M, source: sql, sql: "select 1"}]
alarms:
  - {name: A, metric: M, comparison: GreaterThanThreshold, threshold: 1, topics: [t]}
topics: {t: {subscriptions: [inbox]}}
channels: {inbox: {type: inbox}}
maintenance_windows:
  - {name: vacuum, schedule: "0 4 * * *", duration: 2h, alarms: [A]}
  - {name: reindex, schedule: "0 5 * * *", duration: 1h, alarms: ["A*"]}
`
	_, diags := Parse("x.yaml", []byte(y), Options{LookupEnv: noEnv})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if w := diags.Warnings(); len(w) != 1 || !strings.Contains(w[0].Message, "windows vacuum and reindex overlap") || !strings.Contains(w[0].Message, "both hold back A") {
		t.Errorf("warnings %v", w)
	}
}
