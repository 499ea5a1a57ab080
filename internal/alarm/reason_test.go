package alarm

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// reasonAlarm compiles an alarm on Load (period 5 min) with the given
// settings.
func reasonAlarm(t *testing.T, m, n int, treat, op string, threshold float64) *compiled {
	t.Helper()
	s := parseSpec(t, fmt.Sprintf(`
platform: t
warehouse: {engine: postgres, dsn: "postgres://h/db"}
metrics: [{name: Load, source: compute_capacity}]
alarms:
  - {name: A, metric: Load, statistic: p90, period: 5m, evaluation_periods: %d, datapoints_to_alarm: %d,
     comparison: %s, threshold: %v, treat_missing_data: %s}
`, n, m, op, threshold, treat))
	c, err := compile(indexMetrics(s), &s.Alarms[0])
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestReasons(t *testing.T) {
	at := time.Date(2026, 11, 27, 3, 10, 0, 0, time.UTC)
	x := math.NaN()
	for _, tc := range []struct {
		m, n      int
		treat, op string
		values    []float64
		from      State
		want      string
	}{
		{2, 2, "missing", "GreaterThanThreshold", []float64{1, 1, 92, 95}, OK,
			"Threshold Crossed: 2 out of the last 2 datapoints [95.0 (27/11/26 03:05:00), 92.0 (27/11/26 03:00:00)] were greater than the threshold (90.0) (minimum 2 datapoints for OK -> ALARM transition)."},
		{2, 3, "missing", "GreaterThanThreshold", []float64{x, x, 95, 80, 91.5}, InsufficientData,
			"Threshold Crossed: 2 out of the last 3 datapoints [91.5 (27/11/26 03:05:00), 95.0 (27/11/26 02:55:00)] were greater than the threshold (90.0) (minimum 2 datapoints for INSUFFICIENT_DATA -> ALARM transition)."},
		{2, 3, "missing", "GreaterThanThreshold", []float64{95, 95, 95, 80, 70}, Alarm,
			"Threshold Crossed: 2 out of the last 3 datapoints [70.0 (27/11/26 03:05:00), 80.0 (27/11/26 03:00:00)] were not greater than the threshold (90.0) (minimum 2 datapoints for ALARM -> OK transition)."},
		{1, 1, "missing", "LessThanOrEqualToThreshold", []float64{x, x, 0.25}, OK,
			"Threshold Crossed: 1 datapoint [0.25 (27/11/26 03:05:00)] was less than or equal to the threshold (90.0)."},
		{1, 1, "missing", "GreaterThanOrEqualToThreshold", []float64{x, x, x}, OK,
			"Insufficient Data: 3 datapoints were unknown."},
		{2, 3, "breaching", "GreaterThanThreshold", []float64{x, x, x, x, x}, OK,
			"Threshold Crossed: no datapoints were received for 5 periods and 3 missing datapoints were treated as [Breaching]."},
		{2, 3, "breaching", "GreaterThanThreshold", []float64{x, x, x, x, 1}, OK,
			"Threshold Crossed: 2 out of the last 3 datapoints were greater than the threshold (90.0) (2 missing datapoints were treated as [Breaching]) (minimum 2 datapoints for OK -> ALARM transition)."},
		{3, 3, "missing", "GreaterThanThreshold", []float64{x, x, 99, x, x}, OK,
			"Threshold Crossed: 1 datapoint [99.0 (27/11/26 02:55:00)] was greater than the threshold (90.0) (2 of 3 datapoints missing; the oldest breaching datapoint is at least 3 periods old)."},
		{3, 3, "ignore", "LessThanThreshold", []float64{x, 95, x, x, x}, Alarm,
			"Threshold Crossed: 1 datapoint [95.0 (27/11/26 02:50:00)] was not less than the threshold (90.0) (2 of 3 datapoints missing)."},
	} {
		c := reasonAlarm(t, tc.m, tc.n, tc.treat, tc.op, 90)
		d := c.rule.Decide(tc.values, tc.from)
		if d.State == tc.from || d.Retain {
			t.Fatalf("%v: no transition from %s", tc.values, tc.from)
		}
		got, data := c.explain(at, tc.values, d, tc.from, true)
		if got != tc.want {
			t.Errorf("%v from %s:\n got %s\nwant %s", tc.values, tc.from, got, tc.want)
		}
		var rd ReasonData
		if err := json.Unmarshal(data, &rd); err != nil {
			t.Fatalf("reason data %s: %v", data, err)
		}
		if rd.Threshold != 90 || rd.Statistic != "p90" || rd.Period != 300 || !rd.QueryDate.Equal(at) ||
			!rd.StartDate.Equal(at.Add(-time.Duration(len(tc.values))*5*time.Minute)) || rd.FilledDatapoints != d.Filled {
			t.Errorf("reason data %s", data)
		}
		// The text lists the datapoints of the data that side with the new
		// state: the breaching ones for ALARM, the others for OK.
		for _, p := range rd.EvaluatedDatapoints {
			listed := strings.Contains(got, formatValue(p.Value)+" ("+p.Timestamp.Format("02/01/06 15:04:05")+")")
			if listed != (p.Breaching == (d.State == Alarm)) {
				t.Errorf("datapoint %+v: listed %v in %q", p, listed, got)
			}
		}
	}
}

func TestReasonDataOfAnExpression(t *testing.T) {
	s := defaultSpec(t)
	a, _ := s.Alarm("Review-Query-Failure-Rate")
	c, err := compile(indexMetrics(s), a)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	d := c.rule.Decide([]float64{math.NaN(), 2, 6}, OK)
	_, data := c.explain(at, []float64{math.NaN(), 2, 6}, d, OK, true)
	want := `"expression":"(100 * QueriesFailed) / (QueriesFailed + QueriesSucceeded)"`
	if d.State != Alarm || !strings.Contains(string(data), want) ||
		!strings.Contains(string(data), `"evaluatedDatapoints":[{"timestamp":"2026-11-27T02:00:00Z","value":6,"breaching":true}]`) {
		t.Errorf("%s: %s", d.State, data)
	}
}

// TestAnHourOfOnlyFailuresAlarms: the default failure-rate alarm reads an
// hour whose queries all failed (AWS publishes no QueriesSucceeded for it)
// as 100 %, and an hour without queries as no data, as the CloudWatch
// form does.
func TestAnHourOfOnlyFailuresAlarms(t *testing.T) {
	s := defaultSpec(t)
	a, _ := s.Alarm("Review-Query-Failure-Rate")
	c, err := compile(indexMetrics(s), a)
	if err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	in := make([][]float64, len(c.inputs))
	for i, inp := range c.inputs {
		switch inp.Metric {
		case "QueriesFailed":
			in[i] = []float64{3, nan, 1}
		case "QueriesSucceeded":
			in[i] = []float64{nan, nan, 99}
		}
	}
	got, err := c.values(in, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != 100 || !math.IsNaN(got[1]) || got[2] != 1 {
		t.Errorf("failure rates %v, want [100 NaN 1]", got)
	}
	if d := c.rule.Decide(got[:1], OK); d.State != Alarm {
		t.Errorf("an hour of only failures: %s", d.State)
	}
}
