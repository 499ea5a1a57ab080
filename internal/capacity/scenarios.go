package capacity

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// limit compares use with the usage limit, in the month's terms.
func (r *Report) limit(u *spec.UsageLimit) {
	if u == nil || u.RPUHours <= 0 {
		return
	}
	days := r.To.Sub(r.From).Hours() / 24
	l := &Limit{RPUHours: u.RPUHours, Period: u.Period, NotifyAtPercent: u.NotifyAtPercent, MonthRPUHours: u.RPUHours}
	switch u.Period {
	case "daily":
		l.MonthRPUHours = u.RPUHours * days
	case "weekly":
		l.MonthRPUHours = u.RPUHours * days / 7
	}
	used := r.ChargedRPUHours + r.EstimatedUncoveredRPUHours
	l.UsedPercent = round1(100 * used / l.MonthRPUHours)
	l.ForecastPercent = round1(100 * r.ForecastRPUHours / l.MonthRPUHours)
	l.NoticeAt = r.crossing(used, l.MonthRPUHours*u.NotifyAtPercent/100)
	l.ReachedAt = r.crossing(used, l.MonthRPUHours)
	if u.Period != "monthly" {
		r.Notes = append(r.Notes, fmt.Sprintf("the usage limit is %s; it is compared here as %.0f RPU-hours over the month", u.Period, l.MonthRPUHours))
	}
	r.Limit = l
}

// crossing is when use at the recent rate reaches level this month; nil
// if it has already (then the usage alarm has said so) or will not.
func (r *Report) crossing(used, level float64) *time.Time {
	if used >= level || r.rate <= 0 {
		return nil
	}
	at := r.AsOf.Add(time.Duration((level - used) / r.rate * float64(time.Hour))).Round(time.Minute)
	if !at.Before(r.To) {
		return nil
	}
	return &at
}

// queueing reads QueriesQueued if a series of that name is stored, else
// asks the usage source (Redshift), else says why there is none.
func queueing(ctx context.Context, o Options, r *Report) (*Queueing, error) {
	series, err := o.Store.ListSeries(ctx, "QueriesQueued")
	if err != nil {
		return nil, err
	}
	var n, queued int
	q := &Queueing{Source: "QueriesQueued"}
	for _, se := range series {
		pts, err := o.Store.Points(ctx, se.Metric, se.Dims, r.From, r.AsOf)
		if err != nil {
			return nil, err
		}
		for _, p := range pts {
			n++
			if p.Value > 0 {
				queued++
			}
			q.MaxQueued = math.Max(q.MaxQueued, p.Value)
		}
	}
	if n > 0 {
		q.QueuedSamplesPercent = round1(100 * float64(queued) / float64(n))
		return q, nil
	}
	switch {
	case o.Spec.Warehouse.Engine == spec.EnginePostgres:
		return &Queueing{Source: "none", Note: "PostgreSQL does not queue queries (no WLM): a saturated server shows as active backends at max_rpu"}, nil
	case o.Usage != nil:
		return o.Usage.Queueing(ctx, maxTime(r.From, r.AsOf.Add(-7*24*time.Hour)), r.AsOf)
	}
	return &Queueing{Source: "none", Note: "no QueriesQueued series stored; --sys-usage reads SYS_QUERY_HISTORY queue times (it wakes the workgroup)"}, nil
}

// Scenario is the month under another max_rpu.
type Scenario struct {
	MaxRPU int `json:"max_rpu"`
	// AtCapPercent is the share of busy time use would have been held at
	// this max; unknown (-1) above the current max, where use could not
	// show how far it wanted to go.
	AtCapPercent float64 `json:"at_cap_percent"`
	// SpilledRPUHours is the work above this max: it runs later, at the
	// max, making batches longer by DelayHours in all.
	SpilledRPUHours float64 `json:"spilled_rpu_hours"`
	DelayHours      float64 `json:"delay_hours"`
	// CostLow and CostHigh bound the month's cost. Serverless bills
	// RPU-seconds, so the same work costs the same at a lower max (low =
	// high). Above the current max, high assumes every minute spent at the
	// current max would have used the whole new max for as long.
	CostLow  float64 `json:"cost_low"`
	CostHigh float64 `json:"cost_high"`
	// MaxCostPerHour is the most an hour can cost at this max.
	MaxCostPerHour float64 `json:"max_cost_per_hour"`
}

// candidates are the max values worth comparing: half, three quarters,
// the current, one and a half and twice the current max, in steps of 8,
// never below base.
func candidates(base, cur int) []int {
	var out []int
	for _, f := range []float64{0.5, 0.75, 1, 1.5, 2} {
		m := int(math.Round(float64(cur)*f/8)) * 8
		m = max(m, base, 8)
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

func scenarios(r *Report) []Scenario {
	var out []Scenario
	base := r.Cost
	for _, m := range candidates(r.BaseRPU, r.MaxRPU) {
		sc := Scenario{MaxRPU: m, CostLow: base, CostHigh: base, MaxCostPerHour: round2(float64(m) * r.PricePerRPUHour)}
		var busy, atCap time.Duration
		var spilled, extra float64
		for _, s := range r.samples {
			if s.RPU <= 0 {
				continue
			}
			busy += s.Dur
			if s.RPU >= float64(m) {
				atCap += s.Dur
				spilled += (s.RPU - float64(m)) * s.Dur.Hours()
			}
			if m > r.MaxRPU && s.RPU >= float64(r.MaxRPU) {
				extra += float64(m-r.MaxRPU) * s.Dur.Hours()
			}
		}
		switch {
		case m > r.MaxRPU:
			sc.AtCapPercent = -1
			sc.CostHigh = round2(base + extra*r.PricePerRPUHour)
		case busy > 0:
			sc.AtCapPercent = round1(100 * atCap.Hours() / busy.Hours())
		}
		sc.SpilledRPUHours = round2(spilled)
		sc.DelayHours = round2(spilled / float64(m))
		out = append(out, sc)
	}
	return out
}

// Advice answers "is max_rpu right?".
type Advice struct {
	// Verdict is raise, lower, keep or unknown.
	Verdict string `json:"verdict"`
	// MaxRPU is the max the advice suggests.
	MaxRPU int    `json:"max_rpu"`
	Text   string `json:"text"`
	// The figures the text is made of, for a page that says it in another
	// language: the review threshold (percent of busy time at max),
	// whether queries queued, and for raise the month's cost at MaxRPU
	// at most.
	ReviewAt float64 `json:"review_at_percent"`
	Queued   bool    `json:"queued,omitempty"`
	CostHigh float64 `json:"cost_high,omitempty"`
}

// reviewThreshold is the capacity_review job's at_max_capacity_percent
// threshold, else 10 %.
func reviewThreshold(s *spec.Spec) float64 {
	for _, j := range s.Maintenance {
		if j.Action == spec.ActionCapacityReview && j.When != nil && j.When.Metric == "at_max_capacity_percent" {
			return j.When.Threshold
		}
	}
	return 10
}

func advise(r *Report, threshold float64) Advice {
	if r.BusyHours == 0 {
		return Advice{Verdict: "unknown", MaxRPU: r.MaxRPU, ReviewAt: threshold, Text: "no compute use recorded this month: nothing to size max_rpu on"}
	}
	queued := ""
	wasQueued := false
	if q := r.Queueing; q != nil && (q.QueuedSamplesPercent > 0 || q.Queued > 0) {
		queued, wasQueued = "; queries queued too", true
	}
	if r.AtMaxPercent >= threshold {
		next := r.MaxRPU
		for _, sc := range r.Scenarios {
			if sc.MaxRPU > r.MaxRPU {
				next = sc.MaxRPU
				break
			}
		}
		var high float64
		for _, sc := range r.Scenarios {
			if sc.MaxRPU == next {
				high = sc.CostHigh
			}
		}
		return Advice{Verdict: "raise", MaxRPU: next, ReviewAt: threshold, Queued: wasQueued, CostHigh: high, Text: fmt.Sprintf(
			"use was at max_rpu %d for %.1f %% of busy time (review at %.0f %%)%s: raise it to %d; the month would cost %.2f to %.2f (now %.2f)",
			r.MaxRPU, r.AtMaxPercent, threshold, queued, next, r.Cost, high, r.Cost)}
	}
	if r.AtMaxPercent < 1 && r.PeakRPU <= float64(r.MaxRPU)/2 {
		lower := max(int(math.Ceil(r.PeakRPU/8))*8, r.BaseRPU, 8)
		return Advice{Verdict: "lower", MaxRPU: lower, ReviewAt: threshold, Queued: wasQueued, Text: fmt.Sprintf(
			"peak use was %.0f of max_rpu %d: %d would have served this month and caps an hour's cost at %.2f instead of %.2f (the same work costs the same)",
			r.PeakRPU, r.MaxRPU, lower, float64(lower)*r.PricePerRPUHour, float64(r.MaxRPU)*r.PricePerRPUHour)}
	}
	return Advice{Verdict: "keep", MaxRPU: r.MaxRPU, ReviewAt: threshold, Queued: wasQueued, Text: fmt.Sprintf(
		"max_rpu %d fits: use was at it for %.1f %% of busy time (review at %.0f %%), peak %.0f%s",
		r.MaxRPU, r.AtMaxPercent, threshold, r.PeakRPU, queued)}
}
