package capacity

import (
	"context"
	"fmt"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// sample is compute use over one stretch of time.
type sample struct {
	At  time.Time
	Dur time.Duration
	// RPU is the capacity in use (RPU, or active backends on PostgreSQL);
	// -1 when only seconds are known.
	RPU float64
	// Used is RPU-seconds used; Charged is RPU-seconds billed (the 60-second
	// minimum included) where known, else Used.
	Used, Charged float64
}

// seriesOf finds the spec metric of a source: its name and dimensions.
func seriesOf(s *spec.Spec, source string) (metric, dims string, ok bool) {
	for _, m := range s.Metrics {
		if m.Source == source {
			return m.Name, m.Dimensions.Canonical(), true
		}
	}
	return "", "", false
}

// interval is the collection interval of a source's metric.
func interval(s *spec.Spec, source string) time.Duration {
	for _, m := range s.Metrics {
		if m.Source == source && m.Interval > 0 {
			return m.Interval.D()
		}
	}
	return s.Collect.Interval.D()
}

// readSamples reads the stored compute series of [from, to): capacity
// points (per minute where stored, else AWS's 30-minute average), each
// lasting until the next (at most two intervals), and seconds points
// (one-minute sums) where stored.
// The source names the series used.
func readSamples(ctx context.Context, st *store.Store, s *spec.Spec, from, to time.Time) ([]sample, string, error) {
	var capPts, secPts []store.Point
	var err error
	// The level in use: per minute where it was stored (rpu_minute),
	// else AWS's 30-minute average (compute_capacity).
	capSource := ""
	var capName string
	for _, source := range []string{"rpu_minute", "compute_capacity"} {
		name, dims, ok := seriesOf(s, source)
		if !ok {
			continue
		}
		pts, err := st.Points(ctx, name, dims, from, to)
		if err != nil {
			return nil, "", fmt.Errorf("read %s: %w", name, err)
		}
		if len(pts) > 0 {
			capPts, capName, capSource = pts, name, source
			break
		}
	}
	if m, d, ok := seriesOf(s, "compute_seconds"); ok {
		if secPts, err = st.Points(ctx, m, d, from, to); err != nil {
			return nil, "", fmt.Errorf("read %s: %w", m, err)
		}
		if len(secPts) > 0 {
			src := "stored " + m
			if len(capPts) > 0 {
				src += " and " + capName
			}
			return secondsSamples(secPts, capPts), src, nil
		}
	}
	if len(capPts) == 0 {
		return nil, "none: no compute datapoints stored this month (dpcops serve or collect --data stores them)", nil
	}
	return capacitySamples(capPts, interval(s, capSource), to), "stored " + capName, nil
}

// capacitySamples turns capacity readings into samples: each reading holds
// until the next one, but no longer than two intervals (a gap is no use).
func capacitySamples(pts []store.Point, every time.Duration, to time.Time) []sample {
	out := make([]sample, 0, len(pts))
	for i, p := range pts {
		end := p.Time.Add(every)
		if i+1 < len(pts) {
			end = minTime(pts[i+1].Time, p.Time.Add(2*every))
		}
		end = minTime(end, to)
		d := end.Sub(p.Time)
		if d <= 0 {
			continue
		}
		used := p.Value * d.Seconds()
		out = append(out, sample{At: p.Time, Dur: d, RPU: p.Value, Used: used, Charged: used})
	}
	return out
}

// secondsSamples uses the one-minute ComputeSeconds sums for use, and the
// capacity reading of the same minute for the level.
func secondsSamples(secs, caps []store.Point) []sample {
	level := make(map[int64]float64, len(caps))
	for _, p := range caps {
		level[p.Time.Truncate(time.Minute).Unix()] = p.Value
	}
	out := make([]sample, 0, len(secs))
	for _, p := range secs {
		rpu, ok := level[p.Time.Truncate(time.Minute).Unix()]
		if !ok {
			rpu = p.Value / 60 // the average level of the minute
		}
		out = append(out, sample{At: p.Time, Dur: time.Minute, RPU: rpu, Used: p.Value, Charged: p.Value})
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
