package web

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// TimeRange is the window a page or API call shows.
type TimeRange struct {
	From, To time.Time
	// Name is 3h, 1d, 1w or custom.
	Name string
}

// ranges are the picker's presets.
var ranges = map[string]time.Duration{"3h": 3 * time.Hour, "1d": 24 * time.Hour, "1w": 7 * 24 * time.Hour}

// maxRange bounds a custom range: the store keeps at most its retention.
const maxRange = 400 * 24 * time.Hour

// parseRange reads range=3h|1d|1w, or a custom range (range custom, or
// none): from and to in RFC 3339, or from_local and to_local as the
// dashboard's form sends them, wall-clock times in the spec's zone loc
// (2026-11-27T12:00), whatever the browser's zone. The default is 3h.
func parseRange(q url.Values, now time.Time, loc *time.Location) (TimeRange, error) {
	name := q.Get("range")
	if name == "" && (q.Get("from") != "" || q.Get("to") != "" || q.Get("from_local") != "" || q.Get("to_local") != "") {
		name = "custom"
	}
	if name == "" {
		name = "3h"
	}
	if d, ok := ranges[name]; ok {
		return TimeRange{From: now.Add(-d), To: now, Name: name}, nil
	}
	if name != "custom" {
		return TimeRange{}, fmt.Errorf("range must be 3h, 1d, 1w or custom, got %s", echo(name))
	}
	from, ok, err := rangeEnd(q, "from", loc)
	if err != nil {
		return TimeRange{}, err
	}
	if !ok {
		return TimeRange{}, fmt.Errorf("a custom range needs from (RFC 3339, such as 2026-11-27T03:00:00Z) or from_local")
	}
	to, ok, err := rangeEnd(q, "to", loc)
	if err != nil {
		return TimeRange{}, err
	}
	if !ok {
		to = now
	}
	if !from.Before(to) {
		return TimeRange{}, fmt.Errorf("from (%s) must be before to (%s)", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if to.Sub(from) > maxRange {
		return TimeRange{}, fmt.Errorf("a range may span at most %d days", int(maxRange.Hours()/24))
	}
	return TimeRange{From: from.UTC(), To: to.UTC(), Name: "custom"}, nil
}

// rangeEnd reads one end of a custom range: name in RFC 3339, else
// name_local in loc; false when neither is given.
func rangeEnd(q url.Values, name string, loc *time.Location) (time.Time, bool, error) {
	if s := q.Get(name); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, false, fmt.Errorf("%s must be an RFC 3339 time such as 2026-11-27T03:00:00Z, got %s", name, echo(s))
		}
		return t, true, nil
	}
	s := q.Get(name + "_local")
	if s == "" {
		return time.Time{}, false, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, true, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("%s_local must be a time such as 2026-11-27T12:00 (in %s), got %s", name, loc, echo(s))
}

// maxPoints bounds the points of one series in a chart: more than a
// laptop screen's width only costs time.
const maxPoints = 720

// periodFor picks the aggregation period of a range: the widget's own,
// or longer so that a series has at most maxPoints, in whole minutes.
func periodFor(rng TimeRange, own time.Duration) time.Duration {
	if own <= 0 {
		own = 5 * time.Minute
	}
	need := rng.To.Sub(rng.From) / maxPoints
	if need > own {
		own = ((need + time.Minute - 1) / time.Minute) * time.Minute
	}
	return own
}

// Point is one aggregated value: T in Unix milliseconds.
type Point struct {
	T int64   `json:"t"`
	V float64 `json:"v"`
}

// Series is one line of a chart.
type Series struct {
	Label  string  `json:"label"`
	Metric string  `json:"metric"`
	Dims   string  `json:"dimensions"`
	Points []Point `json:"points"`
}

// seriesData aggregates one stored series into periods with a statistic.
// A period with no datapoints has no point.
func seriesData(ctx context.Context, st *store.Store, metric, dims string, rng TimeRange, period time.Duration, stat alarm.Statistic) ([]Point, error) {
	if _, ok := store.Aggregates[stat.String()]; ok {
		agg, err := st.Aggregate(ctx, metric, dims, rng.From, rng.To, period, stat.String())
		if err != nil {
			return nil, err
		}
		out := make([]Point, len(agg))
		for i, p := range agg {
			out[i] = Point{T: p.Time.UnixMilli(), V: round(p.Value)}
		}
		return out, nil
	}
	// Percentiles need every value of a period.
	raw, err := st.Points(ctx, metric, dims, rng.From, rng.To)
	if err != nil {
		return nil, err
	}
	var out []Point
	var vals, scratch []float64
	bucket := int64(-1)
	flush := func() {
		if len(vals) > 0 {
			start := rng.From.Add(time.Duration(bucket) * period)
			out = append(out, Point{T: start.UnixMilli(), V: round(stat.Of(vals, &scratch))})
		}
		vals = vals[:0]
	}
	for _, p := range raw {
		b := int64(p.Time.Sub(rng.From) / period)
		if b != bucket {
			flush()
			bucket = b
		}
		vals = append(vals, p.Value)
	}
	flush()
	return out, nil
}

// round keeps six significant decimals: enough for a chart, smaller JSON.
func round(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	scale := math.Pow(10, 6-math.Ceil(math.Log10(math.Abs(v))))
	return math.Round(v*scale) / scale
}

// matchingSeries returns the stored series of a metric that carry every
// dimension of dims, leaving out per-table series (Table=), which a chart
// of the metric should not draw by the hundred.
func matchingSeries(all []store.Series, metric string, dims spec.Labels) []store.Series {
	var out []store.Series
	for _, se := range all {
		if se.Metric != metric || strings.Contains(se.Dims, "Table=") {
			continue
		}
		if hasDims(se.Dims, dims) {
			out = append(out, se)
		}
	}
	return out
}

func hasDims(canonical string, dims spec.Labels) bool {
	have := map[string]string{}
	for _, kv := range strings.Split(canonical, ";") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			have[k] = v
		}
	}
	for _, d := range dims {
		if have[d.Name] != d.Value {
			return false
		}
	}
	return true
}

// seriesLabel names a series: the row's label, or the metric with the
// dimensions the row did not fix.
func seriesLabel(row spec.MetricRow, se store.Series) string {
	extra := []string{}
	for _, kv := range strings.Split(se.Dims, ";") {
		k, _, _ := strings.Cut(kv, "=")
		if _, fixed := row.Dimensions.Get(k); !fixed && kv != "" {
			extra = append(extra, kv)
		}
	}
	label := row.MetricName
	if row.Options.Label != "" {
		label = row.Options.Label
	}
	if len(extra) > 0 {
		label += " (" + strings.Join(extra, ", ") + ")"
	}
	return label
}
