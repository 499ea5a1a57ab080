package alarm

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestPropertyMOfNWithoutMissingData checks, over random series and
// alarms, that with no missing data the state at every evaluation is a
// plain count: ALARM when at least M of the newest N periods breach.
func TestPropertyMOfNWithoutMissingData(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2026))
	ops := []string{"GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"}
	stats := []string{"Average", "Sum", "Minimum", "Maximum", "SampleCount", "p50", "p90"}
	treats := []string{"missing", "ignore", "breaching", "notBreaching"}
	for trial := range 300 {
		n := 1 + rng.IntN(8)
		m := 1 + rng.IntN(n)
		op, stat, treat := ops[rng.IntN(4)], stats[rng.IntN(len(stats))], treats[rng.IntN(4)]
		threshold := float64(rng.IntN(10)) // integers, so values often equal it
		s := parseSpec(t, fmt.Sprintf(`
platform: t
warehouse: {engine: postgres, dsn: "postgres://h/db"}
metrics: [{name: Load, source: compute_capacity}]
alarms:
  - {name: A, metric: Load, statistic: %s, period: 1m, evaluation_periods: %d, datapoints_to_alarm: %d,
     comparison: %s, threshold: %v, treat_missing_data: %s}
`, stat, n, m, op, threshold, treat))
		cmp, _ := ParseComparison(op)
		st, _ := ParseStatistic(stat)

		// Every period gets 1 to 3 datapoints.
		periods := n + rng.IntN(40)
		ds := &Dataset{}
		breach := make([]bool, periods)
		for k := range periods {
			var vs []float64
			for j := range 1 + rng.IntN(3) {
				v := float64(rng.IntN(11))
				vs = append(vs, v)
				ds.Rows = append(ds.Rows, Row{Time: t0.Add(time.Duration(k)*time.Minute + time.Duration(j)*time.Second), Metric: "Load", Value: v})
			}
			breach[k] = cmp.Breaches(bruteStat(st, vs), threshold)
		}
		rng.Shuffle(len(ds.Rows), func(i, j int) { ds.Rows[i], ds.Rows[j] = ds.Rows[j], ds.Rows[i] })
		res, err := Replay(s, ds, ReplayOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Walk the transitions to know the state after each period k.
		state, next := InsufficientData, 0
		for k := range periods {
			end := t0.Add(time.Duration(k+1) * time.Minute)
			for next < len(res.Transitions) && !res.Transitions[next].Time.After(end) {
				state = res.Transitions[next].To
				next++
			}
			if k < n-1 {
				continue // fewer than N periods of data so far
			}
			count := 0
			for _, b := range breach[k-n+1 : k+1] {
				if b {
					count++
				}
			}
			want := alarmIf(count >= m)
			if state != want {
				t.Fatalf("trial %d (%s %s %v, %d of %d, %s): after period %d state %s, want %s (breaches %v)",
					trial, stat, op, threshold, m, n, treat, k, state, want, breach[k-n+1:k+1])
			}
		}
	}
}

// bruteStat computes a statistic the obvious way, independently of Of.
func bruteStat(s Statistic, vs []float64) float64 {
	sorted := slices.Sorted(slices.Values(vs))
	sum := 0.0
	for _, v := range vs {
		sum += v
	}
	switch s.String() {
	case "Average":
		return sum / float64(len(vs))
	case "Sum":
		return sum
	case "Minimum":
		return sorted[0]
	case "Maximum":
		return sorted[len(sorted)-1]
	case "SampleCount":
		return float64(len(vs))
	}
	// pNN, nearest rank: the first value with at least NN % at or below it.
	for i, v := range sorted {
		if float64(i+1) >= s.p/100*float64(len(sorted)) {
			return v
		}
	}
	return sorted[len(sorted)-1]
}
