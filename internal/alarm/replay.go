package alarm

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// ReplayOptions tune Replay.
type ReplayOptions struct {
	// Until is the last evaluation time; zero means the end of the period
	// holding the latest datapoint.
	Until time.Time
	// Alarm limits the replay to one alarm, which is then evaluated even
	// if it is disabled; "" replays every enabled alarm.
	Alarm string
	// ReasonData also fills each transition's ReasonData. A backtest
	// prints only reasons, and the JSON would cost more than evaluating.
	ReasonData bool
}

// ReplayResult is what a replay found.
type ReplayResult struct {
	// Transitions in time order; at one time, in the spec's alarm order.
	Transitions []Transition
	// Unknown counts the datapoints skipped per metric the spec does not
	// define.
	Unknown map[string]int
	// Replaced counts datapoints replaced by a later one of the same series
	// at the same time, as the store replaces them.
	Replaced int
	// Datapoints counts the datapoints replayed.
	Datapoints int
	// Evaluations counts the evaluations made. A replay evaluates each
	// alarm at every end of its periods, except that of a run of ends
	// whose ranges hold no datapoint it evaluates only the first: the rest
	// would decide the same (see replayOne).
	Evaluations int
}

// Replay evaluates alarms over a dataset held in memory, as `dpcops
// backtest` does: each alarm at every end t of its periods with first ≤ t
// ≤ until, where first is the end of the period holding the earliest
// datapoint of any metric the spec defines. Every alarm starts in
// INSUFFICIENT_DATA. Each evaluation reads only its own range, as the
// engine does, so a replay makes the transitions serve would make; its
// cost grows with the datapoints, not with the time they span.
func Replay(s *spec.Spec, ds *Dataset, o ReplayOptions) (*ReplayResult, error) {
	alarms, err := replayAlarms(s, o.Alarm)
	if err != nil {
		return nil, err
	}
	data, res := groupSeries(s, ds)
	if res.Datapoints == 0 {
		return res, nil
	}
	if res.Transitions, res.Evaluations, err = replayAll(alarms, data, o.Until, o.ReasonData); err != nil {
		return nil, err
	}
	return res, nil
}

func replayAlarms(s *spec.Spec, only string) ([]*compiled, error) {
	out, err := compileAll(s, func(a *spec.Alarm) bool {
		if only != "" {
			return a.Name == only
		}
		return a.Enabled.On()
	})
	if err == nil && only != "" && len(out) == 0 {
		err = fmt.Errorf("no alarm named %q in the spec", Excerpt(only))
	}
	return out, err
}

// replayAll evaluates alarms over data and returns their transitions in
// time order, and at one time in the order of alarms, and the number of
// evaluations made.
func replayAll(alarms []*compiled, data *replayData, until time.Time, withData bool) ([]Transition, int, error) {
	per := make([][]Transition, len(alarms))
	type key struct {
		t    int64
		a, i int
	}
	var keys []key
	evaluations := 0
	for a, c := range alarms {
		ts, n, err := replayOne(c, data, until, withData)
		if err != nil {
			return nil, 0, err
		}
		per[a], evaluations = ts, evaluations+n
		for i, tr := range ts {
			keys = append(keys, key{tr.Time.UnixMilli(), a, i})
		}
	}
	// Sorting small keys, not transitions, keeps big replays fast; ties
	// keep the order of alarms.
	slices.SortFunc(keys, func(x, y key) int {
		if c := cmp.Compare(x.t, y.t); c != 0 {
			return c
		}
		return cmp.Compare(x.a, y.a)
	})
	out := make([]Transition, len(keys))
	for n, k := range keys {
		out[n] = per[k.a][k.i]
	}
	return out, evaluations, nil
}

// replayData is a dataset grouped into sorted series.
type replayData struct {
	series map[Input]series
	// earliest and latest are in Unix milliseconds, as series are.
	earliest, latest int64
}

// groupSeries groups the rows of known metrics into series. A row without
// dimensions belongs to the metric's own dimensions (those of the spec),
// which is the series alarms read by default.
func groupSeries(s *spec.Spec, ds *Dataset) (*replayData, *ReplayResult) {
	res := &ReplayResult{Unknown: map[string]int{}}
	// Series hold milliseconds, which reach every year RFC 3339 can
	// write (nanoseconds overflow before 1678) and are the store's
	// precision: like the store, a series keeps one value per
	// millisecond, the last written.
	type row struct {
		ms int64
		v  float64
	}
	grouped := map[Input][]row{}
	metrics := indexMetrics(s)
	for _, r := range ds.Rows {
		m, ok := metrics[r.Metric]
		if !ok {
			res.Unknown[r.Metric]++
			continue
		}
		in := Input{Metric: r.Metric, Dims: r.Dims}
		if in.Dims == "" {
			in.Dims = m.Dimensions.Canonical()
		}
		grouped[in] = append(grouped[in], row{r.Time.Unix()*1000 + int64(r.Time.Nanosecond()/1e6), r.Value})
	}
	d := &replayData{series: make(map[Input]series, len(grouped))}
	first := true
	for in, rows := range grouped {
		// Stable: of two rows in one millisecond, the later one in the
		// file wins.
		slices.SortStableFunc(rows, func(a, b row) int { return cmp.Compare(a.ms, b.ms) })
		var se series
		for i, r := range rows {
			if i+1 < len(rows) && rows[i+1].ms == r.ms {
				res.Replaced++
				continue
			}
			se.ts = append(se.ts, r.ms)
			se.vs = append(se.vs, r.v)
		}
		d.series[in] = se
		res.Datapoints += len(se.ts)
		if first || se.ts[0] < d.earliest {
			d.earliest = se.ts[0]
		}
		if first || se.ts[len(se.ts)-1] > d.latest {
			d.latest = se.ts[len(se.ts)-1]
		}
		first = false
	}
	return d, res
}

// floorDiv divides rounding towards minus infinity, so that periods align
// the same way before 1970 as after.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && (a < 0) != (b < 0) {
		q--
	}
	return q
}
