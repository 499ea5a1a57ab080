package render

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

var rowIDRE = regexp.MustCompile(`^[a-z][A-Za-z0-9_]*$`)

// widgetJSON is a widget of a CloudWatch dashboard body.
type widgetJSON struct {
	Type                string
	X, Y, Width, Height *int
	Properties          map[string]any
}

// checkBody checks a dashboard body against the CloudWatch dashboard body
// structure: widget types, the 24-column grid, required properties, and
// region on metric and log widgets.
func checkBody(t *testing.T, body []byte) []widgetJSON {
	t.Helper()
	var d struct{ Widgets []widgetJSON }
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if len(d.Widgets) > 500 {
		t.Errorf("%d widgets; CloudWatch takes 500", len(d.Widgets))
	}
	for i, w := range d.Widgets {
		if w.X == nil || w.Y == nil || w.Width == nil || w.Height == nil {
			t.Fatalf("widget %d lacks its place: %+v", i, w)
		}
		if *w.X < 0 || *w.X > 23 || *w.Y < 0 || *w.Width < 1 || *w.X+*w.Width > 24 || *w.Height < 1 || *w.Height > 1000 {
			t.Errorf("widget %d is off the grid: %d,%d %dx%d", i, *w.X, *w.Y, *w.Width, *w.Height)
		}
		p := w.Properties
		switch w.Type {
		case "metric":
			checkMetrics(t, i, p)
		case "log":
			if q, _ := p["query"].(string); !strings.HasPrefix(q, "SOURCE '") {
				t.Errorf("log widget %d: query %q names no log group", i, q)
			}
		case "text":
			if _, ok := p["markdown"].(string); !ok {
				t.Errorf("text widget %d has no markdown", i)
			}
		case "alarm":
			if a, _ := p["alarms"].([]any); len(a) == 0 {
				t.Errorf("alarm widget %d has no alarms", i)
			}
		default:
			t.Errorf("widget %d: type %q", i, w.Type)
		}
		if r, _ := p["region"].(string); (w.Type == "metric" || w.Type == "log") && r == "" {
			t.Errorf("%s widget %d has no region", w.Type, i)
		}
	}
	return d.Widgets
}

func checkMetrics(t *testing.T, i int, p map[string]any) {
	t.Helper()
	rows, _ := p["metrics"].([]any)
	if len(rows) == 0 {
		t.Errorf("metric widget %d has no metrics", i)
	}
	for j, r := range rows {
		row := r.([]any)
		last, isOpts := row[len(row)-1].(map[string]any)
		if isOpts {
			if id, ok := last["id"].(string); ok && !rowIDRE.MatchString(id) {
				t.Errorf("widget %d row %d: id %q must start with a lower-case letter", i, j, id)
			}
			row = row[:len(row)-1]
		}
		if len(row) == 0 {
			if _, ok := last["expression"].(string); !ok {
				t.Errorf("widget %d row %d: an options-only row needs an expression", i, j)
			}
			continue
		}
		if len(row) < 2 || len(row)%2 != 0 {
			t.Errorf("widget %d row %d: %v is not [Namespace, MetricName, Dim, Value...]", i, j, row)
		}
	}
}

func TestDashboardBodyStructure(t *testing.T) {
	body, err := Dashboard(defaultSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	ws := checkBody(t, body)
	if q := ws[4].Properties["query"]; q != "SOURCE '/dpcops/dpc-learning/errors' | fields @timestamp, source, error, query, file, line | sort @timestamp desc | limit 20" {
		t.Errorf("log widget query %q", q)
	}
	if !strings.Contains(string(body), `SUM(SEARCH('{\"AWS/Redshift-Serverless\",QueryType,Workgroup} MetricName=\"QueriesFailed\" Workgroup=\"dpc-learning\"', 'Sum', 300))`) {
		t.Error("QueriesFailed, published only per QueryType, must be summed over QueryType")
	}
}

// TestDashboardWidgets covers the widget kinds the default spec lacks:
// math over metric names, alarms, text, a log query without SOURCE or on
// the seed's invented group, and the region taken from aws.region.
func TestDashboardWidgets(t *testing.T) {
	y := strings.Replace(baseSpec, "maintenance:", `dashboard:
  widgets:
    - {type: metric, x: 0, y: 0, width: 12, properties: {metrics: [[{expression: "100 * QueriesFailed / (QueriesFailed + QueriesSucceeded)", label: rate}]]}}
    - {type: alarm, x: 12, y: 0, width: 12, properties: {title: Alarms, alarms: [A]}}
    - {type: text, x: 0, y: 6, width: 24, height: 2, properties: {markdown: "# Runbook"}}
    - {type: log, x: 0, y: 8, width: 24, properties: {query: "fields @message | limit 5"}}
    - {type: log, x: 0, y: 14, width: 24, properties: {region: us-east-1, query: "SOURCE '/aws/redshift-serverless/workgroup/wg' | limit 5"}}
maintenance:`, 1)
	body, err := Dashboard(parseSpec(t, y))
	if err != nil {
		t.Fatal(err)
	}
	ws := checkBody(t, body)
	rows := ws[0].Properties["metrics"].([]any)
	if len(rows) != 3 {
		t.Fatalf("want two hidden rows for the metrics and the expression row: %v", rows)
	}
	expr := rows[2].([]any)[0].(map[string]any)
	if expr["expression"] != "(100 * r1) / (r1 + r2)" || expr["label"] != "rate" {
		t.Errorf("expression row %v", expr)
	}
	if hidden := rows[0].([]any)[0].(map[string]any); hidden["visible"] != false || hidden["id"] != "r1" {
		t.Errorf("hidden row %v", hidden)
	}
	if a := ws[1].Properties["alarms"].([]any); a[0] != "arn:aws:cloudwatch:ap-northeast-1:111111111111:alarm:A" {
		t.Errorf("alarm widget %v", a)
	}
	if q := ws[3].Properties["query"]; q != "SOURCE '/dpcops/p/errors' | fields @message | limit 5" {
		t.Errorf("a query without SOURCE reads dpcops' error events: %q", q)
	}
	if q, r := ws[4].Properties["query"], ws[4].Properties["region"]; q != "SOURCE '/dpcops/p/errors' | limit 5" || r != "us-east-1" {
		t.Errorf("the seed's invented group becomes the error events, in the widget's own region: %q %q", q, r)
	}
	if ws[0].Properties["region"] != "ap-northeast-1" {
		t.Errorf("region %v", ws[0].Properties["region"])
	}
}

// TestDashboardIgnoresAlarmsItDoesNotShow: an alarm CloudWatch cannot
// express stops the module, but not a dashboard without that alarm.
func TestDashboardIgnoresAlarmsItDoesNotShow(t *testing.T) {
	s := defaultSpec(t)
	a, _ := s.Alarm("Review-Table-Skew")
	a.Statistic = "p1e1"
	if _, err := Terraform(s); err == nil || !strings.Contains(err.Error(), "Review-Table-Skew") {
		t.Fatalf("the module must refuse the alarm: %v", err)
	}
	if _, err := Dashboard(s); err != nil {
		t.Errorf("the dashboard does not show the alarm: %v", err)
	}
}
