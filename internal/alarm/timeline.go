package alarm

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// replayOne evaluates one alarm at every end e·p of its periods (p in
// milliseconds) from the end of the period holding the earliest datapoint
// to until, and returns its transitions and the number of evaluations it
// made.
//
// Each evaluation reads only its own span, the range and the
// expression's lookback, as the engine does: a DIFF or RATE never reaches
// back past it. An evaluation whose span holds no datapoint therefore
// reads the same values wherever it falls, and Rule.decide over the same
// values either keeps the current state or sets one that does not depend
// on it, so a second such evaluation keeps what the first decided. Of a
// run of such evaluations (a gap in the data longer than the span) only
// the first is made: the state after the gap, and every transition, are
// those of evaluating each period, with any treat_missing_data, and a
// dataset of two rows centuries apart costs a few evaluations.
func replayOne(c *compiled, d *replayData, until time.Time, withData bool) ([]Transition, int, error) {
	if c.period%time.Millisecond != 0 {
		return nil, 0, fmt.Errorf("alarm %s: period %s is not a whole number of milliseconds", c.name, c.period)
	}
	w := &walk{c: c, p: c.period.Milliseconds(), span: c.span(), withData: withData, state: InsufficientData}
	first := floorDiv(d.earliest, w.p) + 1
	last := floorDiv(d.latest, w.p) + 1
	if !until.IsZero() {
		last = floorDiv(until.UnixMilli(), w.p)
	}
	if last < first {
		return nil, 0, nil
	}
	e := first
	for _, run := range w.dataRuns(d, first, last) {
		if e < run.from {
			if err := w.empty(e); err != nil {
				return nil, 0, err
			}
		}
		if err := w.run(d, run); err != nil {
			return nil, 0, err
		}
		e = run.to + 1
	}
	if e <= last {
		if err := w.empty(e); err != nil {
			return nil, 0, err
		}
	}
	return w.out, w.evaluations, nil
}

// walk is the replay of one alarm in progress.
type walk struct {
	c        *compiled
	p        int64 // the period in milliseconds
	span     int
	withData bool

	state       State
	episode     episodes
	out         []Transition
	evaluations int

	// emptyVals are the values of a span without datapoints, once known.
	emptyVals []float64
	in, sub   [][]float64
	marks     []mark
	scratch   []float64
}

// evalRun is a run of evaluations from..to (ends of periods, counted in
// periods since 1970) whose spans hold datapoints.
type evalRun struct{ from, to int64 }

// dataRuns returns, in order, the runs of evaluations in first..last
// whose spans hold a datapoint of one of the alarm's inputs. A datapoint
// in period q is in the span of the evaluations q+1 … q+span.
func (w *walk) dataRuns(d *replayData, first, last int64) []evalRun {
	var all []evalRun
	for _, inp := range w.c.inputs {
		// An input's datapoints are in time order, so its runs are too.
		var runs []evalRun
		for _, t := range d.series[inp].ts {
			q := floorDiv(t, w.p)
			runs = addRun(runs, evalRun{max(q+1, first), min(q+int64(w.span), last)})
		}
		all = append(all, runs...)
	}
	if len(w.c.inputs) == 1 {
		return all
	}
	// The runs of several inputs interleave: merge them.
	slices.SortFunc(all, func(a, b evalRun) int { return cmp.Compare(a.from, b.from) })
	var merged []evalRun
	for _, r := range all {
		merged = addRun(merged, r)
	}
	return merged
}

// addRun appends r to runs, which are in order and start no later than
// r, joining it to the last run if they overlap or touch.
func addRun(runs []evalRun, r evalRun) []evalRun {
	if r.from > r.to {
		return runs
	}
	if n := len(runs); n > 0 && r.from <= runs[n-1].to+1 {
		runs[n-1].to = max(runs[n-1].to, r.to)
		return runs
	}
	return append(runs, r)
}

// run evaluates every end of a run of evaluations with data. It reads
// the periods of all their spans at once.
func (w *walk) run(d *replayData, r evalRun) error {
	c, span, rl := w.c, w.span, w.c.rule.RangeLen()
	n := int(r.to-r.from) + span
	start := (r.from - int64(span)) * w.p
	w.in = slices.Grow(w.in[:0], len(c.inputs))[:len(c.inputs)]
	for i, inp := range c.inputs {
		w.in[i] = slices.Grow(w.in[i][:0], n)[:n]
		aggregate(d.series[inp], start, w.p, c.stat, w.in[i], &w.scratch)
	}
	if c.lookback == 0 {
		// Without DIFF or RATE every period's value depends on that
		// period alone, so one computation serves every span.
		vals, err := c.values(w.in, n)
		if err != nil {
			return fmt.Errorf("alarm %s: %w", c.name, err)
		}
		for e := r.from; e <= r.to; e++ {
			k := int(e-r.from) + span
			w.decide(e, vals[k-rl:k])
		}
		return nil
	}
	w.sub = slices.Grow(w.sub[:0], len(c.inputs))[:len(c.inputs)]
	for e := r.from; e <= r.to; e++ {
		o := int(e - r.from)
		for i := range w.in {
			w.sub[i] = w.in[i][o : o+span]
		}
		vals, err := c.values(w.sub, span)
		if err != nil {
			return fmt.Errorf("alarm %s: %w", c.name, err)
		}
		w.decide(e, vals[span-rl:])
	}
	return nil
}

// empty makes evaluation e, whose span holds no datapoint, and so stands
// for every evaluation up to the next one with data.
func (w *walk) empty(e int64) error {
	if w.emptyVals == nil {
		in := make([][]float64, len(w.c.inputs))
		for i := range in {
			in[i] = make([]float64, w.span)
			for k := range in[i] {
				in[i][k] = math.NaN()
			}
		}
		vals, err := w.c.values(in, w.span)
		if err != nil {
			return fmt.Errorf("alarm %s: %w", w.c.name, err)
		}
		w.emptyVals = vals[w.span-w.c.rule.RangeLen():]
	}
	w.decide(e, w.emptyVals)
	return nil
}

// decide evaluates the range window that ends at e·p and records the
// transition it calls for.
func (w *walk) decide(e int64, window []float64) {
	w.evaluations++
	c := w.c
	w.marks = w.marks[:0]
	for _, v := range window {
		w.marks = append(w.marks, classify(c.rule.Comparison, v, c.rule.Threshold))
	}
	d := c.rule.decide(w.marks, w.state)
	if d.State == w.state {
		return
	}
	t := time.UnixMilli(e * w.p).UTC()
	reason, data := c.explain(t, window, d, w.state, w.withData)
	w.episode = w.episode.next(d.State)
	w.out = append(w.out, Transition{Alarm: c.name, Time: t, From: w.state, To: d.State, Reason: reason, ReasonData: data, Episode: w.episode.n})
	w.state = d.State
}
