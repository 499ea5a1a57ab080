package alarm

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// TestReplayCostFollowsRowsNotTimeSpan replays datasets of a few rows
// centuries apart through every default alarm. Their cost must follow
// the rows: the periods in between are a gap whose evaluations all decide
// alike, so only the first of them is made. The transitions are dated in
// the years the rows are in, year 0000 included.
func TestReplayCostFollowsRowsNotTimeSpan(t *testing.T) {
	s := defaultSpec(t)
	for _, tc := range []struct {
		name, csv string
		until     time.Time
		want      []string
	}{
		{"two rows from year 0000 to 2026",
			"time,metric,value\n0000-01-01T00:00:00Z,RPUPerMinute,8\n2026-11-27T00:00:00Z,RPUPerMinute,40\n", time.Time{},
			[]string{
				"0000-01-01T00:01 Alert-RPU-Spike INSUFFICIENT_DATA>OK", "0000-01-01T00:05 Alert-COPY-Error INSUFFICIENT_DATA>OK",
				"0000-01-01T00:05 Alert-Query-Failure INSUFFICIENT_DATA>OK", "0000-01-01T00:05 Alert-Capacity-Lease INSUFFICIENT_DATA>OK",
				"0000-01-01T00:05 dpcops-Deliveries-Failing INSUFFICIENT_DATA>OK",
				"0000-01-01T01:00 Review-Query-Failure-Rate INSUFFICIENT_DATA>OK"}},
		// A spike in year 1 alarms; the silence after it is a gap that ends
		// in 9999, and the alarm resolves near its start (once fewer than
		// 5 of the newest periods breach), not at its end.
		{"a spike, then silence until 9999",
			"time,metric,value\n0001-06-01T00:00:00Z,RPUPerMinute,40\n0001-06-01T00:01:00Z,RPUPerMinute,40\n" +
				"0001-06-01T00:02:00Z,RPUPerMinute,40\n0001-06-01T00:03:00Z,RPUPerMinute,40\n0001-06-01T00:04:00Z,RPUPerMinute,40\n",
			time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC),
			[]string{
				"0001-06-01T00:01 Alert-RPU-Spike INSUFFICIENT_DATA>OK", "0001-06-01T00:05 Alert-COPY-Error INSUFFICIENT_DATA>OK",
				"0001-06-01T00:05 Alert-RPU-Spike OK>ALARM", "0001-06-01T00:05 Alert-Query-Failure INSUFFICIENT_DATA>OK",
				"0001-06-01T00:05 Alert-Capacity-Lease INSUFFICIENT_DATA>OK", "0001-06-01T00:05 dpcops-Deliveries-Failing INSUFFICIENT_DATA>OK",
				"0001-06-01T00:08 Alert-RPU-Spike ALARM>OK",
				"0001-06-01T01:00 Review-Query-Failure-Rate INSUFFICIENT_DATA>OK"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := ReadCSV("t.csv", strings.NewReader(tc.csv))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Replay(s, ds, ReplayOptions{Until: tc.until})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tr := range res.Transitions {
				got = append(got, tr.Time.Format("2006-01-02T15:04")+" "+tr.Alarm+" "+string(tr.From)+">"+string(tr.To))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("transitions\n got %q\nwant %q", got, tc.want)
			}
			// A row is in the spans of a few evaluations of each alarm,
			// and a gap costs one: a few dozen in all, where evaluating
			// every period would take billions.
			if res.Evaluations > 50 {
				t.Errorf("%d evaluations for %d rows", res.Evaluations, len(ds.Rows))
			}
		})
	}
}

// gapExpressions are the shapes whose values in a gap differ: missing
// (a metric, arithmetic), a constant (SUM with a number), or a DIFF or
// RATE that would step over the gap if the span allowed it.
var gapExpressions = []string{"", "DIFF(Load)", "RATE(Load)", "SUM([Load, 5])", "DIFF(SUM([Load, 5]))",
	"Load + Other", "MAX([Load, Other])", "DIFF(DIFF(Load))", "RATE(Load) - DIFF(Other)"}

// TestPropertySkippingGapsChangesNothing checks, over random bursts of
// data with gaps of random length between them, every treat_missing_data
// setting and expressions that read a gap differently, that a replay
// makes exactly the transitions (times, reasons, reason data, episodes)
// of evaluating every period one by one, as the engine would.
func TestPropertySkippingGapsChangesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 2026))
	ops := []string{"GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"}
	stats := []string{"Average", "Sum", "Minimum", "Maximum", "SampleCount", "p90"}
	skipped := 0
	for trial := range 150 {
		n := 1 + rng.IntN(5)
		m := 1 + rng.IntN(n)
		op, stat := ops[rng.IntN(len(ops))], stats[rng.IntN(len(stats))]
		expr := gapExpressions[trial%len(gapExpressions)]
		threshold := float64(rng.IntN(6))
		ds, until := randomBursts(rng, n+extraPeriods+2)
		for _, treat := range []string{"missing", "ignore", "breaching", "notBreaching"} {
			target := "metric: Load"
			if expr != "" {
				target = fmt.Sprintf("expression: %q", expr)
			}
			s := parseSpec(t, fmt.Sprintf(`
platform: t
warehouse: {engine: postgres, dsn: "postgres://h/db"}
metrics: [{name: Load, source: compute_capacity}, {name: Other, source: compute_capacity}]
alarms:
  - {name: A, %s, statistic: %s, period: 1m, evaluation_periods: %d, datapoints_to_alarm: %d,
     comparison: %s, threshold: %v, treat_missing_data: %s}
`, target, stat, n, m, op, threshold, treat))
			res, err := Replay(s, ds, ReplayOptions{Until: until, ReasonData: true})
			if err != nil {
				t.Fatal(err)
			}
			want, periods := everyPeriod(t, s, ds, until)
			what := fmt.Sprintf("trial %d (%s %s, %d of %d, %s %v, %s)", trial, stat, expr, m, n, op, threshold, treat)
			if len(res.Transitions) != len(want) {
				t.Fatalf("%s:\nreplay       %q\nevery period %q", what, summary(res.Transitions), summary(want))
			}
			for i, g := range res.Transitions {
				w := want[i]
				if !g.Time.Equal(w.Time) || g.From != w.From || g.To != w.To || g.Reason != w.Reason ||
					g.Episode != w.Episode || !bytes.Equal(g.ReasonData, w.ReasonData) {
					t.Fatalf("%s: transition %d:\nreplay       %+v\nevery period %+v", what, i, g, w)
				}
			}
			skipped += periods - res.Evaluations
		}
	}
	// The data has long gaps, so the replay must have skipped evaluations.
	if skipped <= 0 {
		t.Errorf("no evaluation skipped")
	}
}

// randomBursts returns 1 to 4 bursts of datapoints of Load and Other,
// separated by gaps of up to four spans, and an until that is zero or
// up to four spans after the data.
func randomBursts(rng *rand.Rand, span int) (*Dataset, time.Time) {
	ds := &Dataset{}
	k := 0
	latest := 0
	for range 1 + rng.IntN(4) {
		for range 1 + rng.IntN(8) {
			for _, metric := range []string{"Load", "Other"} {
				for j := range rng.IntN(3) {
					at := t0.Add(time.Duration(k)*time.Minute + time.Duration(j*7)*time.Second)
					ds.Rows = append(ds.Rows, Row{Time: at, Metric: metric, Value: float64(rng.IntN(8))})
					latest = max(latest, k)
				}
			}
			k++
		}
		k += rng.IntN(4 * span)
	}
	if len(ds.Rows) == 0 {
		ds.Rows = append(ds.Rows, Row{Time: t0, Metric: "Load", Value: 1})
	}
	rng.Shuffle(len(ds.Rows), func(i, j int) { ds.Rows[i], ds.Rows[j] = ds.Rows[j], ds.Rows[i] })
	if rng.IntN(2) == 0 {
		return ds, time.Time{}
	}
	return ds, minute(latest + 1 + rng.IntN(4*span))
}

// everyPeriod is the reference replay: the one alarm of s evaluated at
// every end of its periods, each evaluation reading its own span of
// datapoints as Engine.evaluate does. It returns the transitions and the
// number of evaluations.
func everyPeriod(t *testing.T, s *spec.Spec, ds *Dataset, until time.Time) ([]Transition, int) {
	t.Helper()
	cs, err := replayAlarms(s, "A")
	if err != nil {
		t.Fatal(err)
	}
	c := cs[0]
	data, _ := groupSeries(s, ds)
	p, span, rl := c.period, c.span(), c.rule.RangeLen()
	last := time.UnixMilli(data.latest).Truncate(p).Add(p)
	if !until.IsZero() {
		last = until.Truncate(p)
	}
	var out []Transition
	state, episode, count := InsufficientData, episodes{}, 0
	for at := time.UnixMilli(data.earliest).Truncate(p).Add(p); !at.After(last); at = at.Add(p) {
		count++
		start := at.Add(-time.Duration(span) * p)
		in := make([][]float64, len(c.inputs))
		for i, inp := range c.inputs {
			in[i] = make([]float64, span)
			aggregate(data.series[inp], start.UnixMilli(), p.Milliseconds(), c.stat, in[i], nil)
		}
		vals, err := c.values(in, span)
		if err != nil {
			t.Fatal(err)
		}
		window := vals[span-rl:]
		d := c.rule.Decide(window, state)
		if d.State == state {
			continue
		}
		reason, rd := c.explain(at.UTC(), window, d, state, true)
		episode = episode.next(d.State)
		out = append(out, Transition{Alarm: c.name, Time: at.UTC(), From: state, To: d.State, Reason: reason, ReasonData: rd, Episode: episode.n})
		state = d.State
	}
	return out, count
}

// FuzzReplay replays any CSV that reads through every default alarm. It
// must not fail, and its evaluations are bounded by the datapoints
// whatever time they span: each datapoint is in the spans of span
// evaluations per alarm, and each gap costs one.
func FuzzReplay(f *testing.F) {
	f.Add("time,metric,value\n0000-01-01T00:00:00Z,RPUPerMinute,8\n2026-11-27T00:00:00Z,RPUPerMinute,40\n")
	f.Add("time,metric,value\n9999-12-31T23:59:59.999999999Z,QueriesFailed,1\n2026-11-27T00:00:00Z,QueriesFailed,3\n")
	f.Add("time,metric,value,dimensions\n2026-11-27T03:00:00+09:00,DataStorage,1e6,\n1970-01-01T00:00:00Z,QueriesSucceeded,4,\n")
	s := defaultSpec(f)
	alarms, err := replayAlarms(s, "")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ds, err := ReadCSV("f.csv", strings.NewReader(in))
		if err != nil {
			return
		}
		res, err := Replay(s, ds, ReplayOptions{ReasonData: true})
		if err != nil {
			t.Fatal(err)
		}
		bound := 0
		for _, c := range alarms {
			bound += res.Datapoints*(c.span()+1) + 1
		}
		if res.Evaluations > bound {
			t.Fatalf("%d evaluations for %d datapoints (at most %d)", res.Evaluations, res.Datapoints, bound)
		}
	})
}
