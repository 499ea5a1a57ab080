package web

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
)

// TestNiceTicks: axis ticks are round values that cover the data.
func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		want   string
	}{
		{0, 13.84, "[0 5 10 15]"},
		{0, 1, "[0 0.5 1]"},
		{0, 32, "[0 10 20 30 40]"},
		{-3, 7, "[-5 0 5 10]"},
		{0, 0.3, "[0 0.1 0.2 0.3]"},
		{0, 23670, "[0 10000 20000 30000]"},
	} {
		got := niceTicks(tc.lo, tc.hi)
		if fmt.Sprint(got) != tc.want {
			t.Errorf("niceTicks(%g, %g) = %v, want %s", tc.lo, tc.hi, got, tc.want)
		}
		if got[0] > tc.lo || got[len(got)-1] < tc.hi || len(got) < 3 || len(got) > 8 {
			t.Errorf("niceTicks(%g, %g) = %v does not cover the data in 3 to 8 ticks", tc.lo, tc.hi, got)
		}
	}
}

// TestAlarmSpans: the ALARM periods of a history, newest first.
func TestAlarmSpans(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 11, 27, 3, m, 0, 0, time.UTC) }
	history := []alarm.Transition{
		{Time: at(50), From: alarm.OK, To: alarm.Alarm},
		{Time: at(40), From: alarm.InsufficientData, To: alarm.OK},
		{Time: at(30), From: alarm.Alarm, To: alarm.InsufficientData},
		{Time: at(20), From: alarm.OK, To: alarm.Alarm},
		{Time: at(10), From: alarm.Alarm, To: alarm.OK},
	}
	got := alarmSpans(history)
	want := []span{{To: at(10)}, {From: at(20), To: at(30)}, {From: at(50)}}
	if len(got) != len(want) {
		t.Fatalf("spans %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].From.Equal(want[i].From) || !got[i].To.Equal(want[i].To) {
			t.Errorf("span %d: %v, want %v", i, got[i], want[i])
		}
	}
}

// TestChartDrawsThresholdAndAlarm: a chart with a threshold and an ALARM
// period draws the threshold at its value and shades the period, clipped
// to the chart.
func TestChartDrawsThresholdAndAlarm(t *testing.T) {
	from := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	to := from.Add(time.Hour)
	th := 10.0
	pts := []Point{{T: from.UnixMilli(), V: 0}, {T: from.Add(30 * time.Minute).UnixMilli(), V: 20}}
	svg := string(chartSVG([]Series{{Label: "m", Points: pts}}, from, to,
		chartOpts{Threshold: &th, Alarm: []span{{From: from.Add(30 * time.Minute)}}}, time.UTC))
	// Ticks 0, 5, … 20: the value 10 sits half-way up the plot.
	wantY := chartH - padB - (chartH-padT-padB)*0.5
	if !strings.Contains(svg, `class="threshold"`) || !strings.Contains(svg, fmt.Sprintf(`y1="%.1f"`, wantY)) || !strings.Contains(svg, "<title>threshold 10</title>") {
		t.Errorf("threshold line: %s", svg)
	}
	midX := padL + (chartW-padL-padR)/2
	if !strings.Contains(svg, fmt.Sprintf(`<rect class="alarm-band" x="%.1f"`, midX)) {
		t.Errorf("ALARM band from half-way to the end: %s", svg)
	}
	if strings.Contains(svg, "8.40") || !strings.Contains(svg, `>20</text>`) {
		t.Errorf("round ticks: %s", svg)
	}
	// No threshold, no band: nothing drawn for them.
	plain := string(chartSVG([]Series{{Label: "m", Points: pts}}, from, to, chartOpts{}, time.UTC))
	if strings.Contains(plain, "threshold") || strings.Contains(plain, "alarm-band") {
		t.Errorf("a chart without an alarm: %s", plain)
	}
}

// TestCustomRangeInTheSpecsZone: the form's wall-clock times are read in
// the spec's zone; RFC 3339 ends still work; bad input names the zone.
func TestCustomRangeInTheSpecsZone(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	q := url.Values{"range": {"custom"}, "from_local": {"2026-11-27T12:00"}, "to_local": {"2026-11-27T14:30"}}
	r, err := parseRange(q, now, tokyo)
	if err != nil || !r.From.Equal(time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)) || !r.To.Equal(time.Date(2026, 11, 27, 5, 30, 0, 0, time.UTC)) {
		t.Errorf("local range: %+v, %v", r, err)
	}
	r, err = parseRange(url.Values{"from": {"2026-11-27T03:00:00Z"}}, now, tokyo)
	if err != nil || r.Name != "custom" || !r.To.Equal(now) {
		t.Errorf("RFC 3339 from, to now: %+v, %v", r, err)
	}
	if _, err := parseRange(url.Values{"range": {"custom"}, "from_local": {"27/11/2026"}}, now, tokyo); err == nil ||
		!strings.Contains(err.Error(), "in Asia/Tokyo") {
		t.Errorf("a bad local time: %v", err)
	}
	if _, err := parseRange(url.Values{"range": {"custom"}}, now, tokyo); err == nil || !strings.Contains(err.Error(), "needs from") {
		t.Errorf("no from: %v", err)
	}
}

// TestChartsStartWithTheData: a preset range whose data starts late (a
// fresh store) draws from the earliest point of any chart, on every chart;
// a custom range, or data older than the range, keeps the range's start.
func TestChartsStartWithTheData(t *testing.T) {
	to := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	rng := TimeRange{From: to.Add(-3 * time.Hour), To: to, Name: "3h"}
	at := func(ago time.Duration) Point { return Point{T: to.Add(-ago).UnixMilli(), V: 1} }
	widgets := []Widget{
		{Type: "metric", Series: []Series{{Points: []Point{at(10 * time.Minute), at(5 * time.Minute)}}}},
		{Type: "metric", Series: []Series{{Points: []Point{at(12*time.Minute + 30*time.Second)}}, {}}},
		{Type: "log"},
	}
	if got := chartStart(widgets, rng); !got.Equal(to.Add(-13 * time.Minute)) {
		t.Errorf("fresh data: charts start at %s, want the earliest point's minute %s", got, to.Add(-13*time.Minute))
	}
	custom := rng
	custom.Name = "custom"
	if got := chartStart(widgets, custom); !got.Equal(rng.From) {
		t.Errorf("custom range: %s", got)
	}
	widgets[0].Series[0].Points = append([]Point{at(4 * time.Hour)}, widgets[0].Series[0].Points...)
	if got := chartStart(widgets, rng); !got.Equal(rng.From) {
		t.Errorf("data older than the range: %s", got)
	}
	if got := chartStart(nil, rng); !got.Equal(rng.From) {
		t.Errorf("no data: %s", got)
	}
}

// TestNumKeepsThePrecisionAFigureHas: a small limit is not shown as 0.
func TestNumKeepsThePrecisionAFigureHas(t *testing.T) {
	for v, want := range map[float64]string{0.1: "0.1", 2000: "2000", 23670.456: "23670.46", 33.3: "33.3", 0: "0"} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestHoverSaysWhenAndWhat: a point's tooltip is its time in the spec's
// zone and its value.
func TestHoverSaysWhenAndWhat(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	svg := string(chartSVG([]Series{{Label: "m", Points: []Point{{T: from.Add(5 * time.Minute).UnixMilli(), V: 28.5}}}},
		from, from.Add(time.Hour), chartOpts{}, tokyo))
	if !strings.Contains(svg, "<title>11/27 12:05 · 28.50</title>") {
		t.Errorf("tooltip: %s", svg)
	}
}
