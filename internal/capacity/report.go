package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// Options are what a report reads.
type Options struct {
	Spec  *spec.Spec
	Store *store.Store
	// Usage, when set, adds what Redshift records itself
	// (SYS_SERVERLESS_USAGE for the last 7 days, SYS_QUERY_HISTORY queue
	// times). It sends SQL: leave it nil not to wake the workgroup.
	Usage UsageSource
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Report is the month's compute use against the budget. Its JSON form is
// what `dpcops capacity report --format json` prints.
type Report struct {
	Month  string    `json:"month"` // YYYY-MM in the spec's time zone
	Engine string    `json:"engine"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	AsOf   time.Time `json:"as_of"`
	// Unit is what the hours count: RPU, or on PostgreSQL backend (a
	// backend running a query stands for one RPU).
	Unit            string  `json:"unit"`
	BaseRPU         int     `json:"base_rpu"`
	MaxRPU          int     `json:"max_rpu"`
	PricePerRPUHour float64 `json:"price_per_rpu_hour"`
	// Source says where the figures come from.
	Source string `json:"source"`
	// CoveredFrom is the first stored datapoint of the month; before it
	// the figures are estimated at the month's average rate.
	CoveredFrom *time.Time `json:"covered_from,omitempty"`
	// RPUHours is used to date; ChargedRPUHours is billed (with the
	// 60-second minimum, where SYS_SERVERLESS_USAGE says; else = used).
	RPUHours                   float64 `json:"rpu_hours"`
	ChargedRPUHours            float64 `json:"charged_rpu_hours"`
	EstimatedUncoveredRPUHours float64 `json:"estimated_uncovered_rpu_hours,omitempty"`
	Cost                       float64 `json:"cost"`
	// Forecast is to month end at the rate of the last 7 days of data.
	ForecastRPUHours float64 `json:"forecast_rpu_hours"`
	ForecastCost     float64 `json:"forecast_cost"`
	Limit            *Limit  `json:"usage_limit,omitempty"`
	// BusyHours is the time with compute in use; AtMaxPercent the share of
	// it spent at max_rpu (or above: ComputeCapacity rounds up).
	BusyHours    float64    `json:"busy_hours"`
	AtMaxPercent float64    `json:"at_max_percent"`
	PeakRPU      float64    `json:"peak_rpu"`
	Queueing     *Queueing  `json:"queueing"`
	Scenarios    []Scenario `json:"scenarios"`
	Advice       Advice     `json:"advice"`
	// Leases is the month's capacity leases, when capacity.lease is set.
	Leases *Leases  `json:"leases,omitempty"`
	Notes  []string `json:"notes,omitempty"`
	// samples are the month's use; rate is the recent use in RPU-hours
	// per hour (charged).
	samples []sample
	rate    float64
}

// Limit is the usage limit, in the month's terms.
type Limit struct {
	RPUHours float64 `json:"rpu_hours"`
	Period   string  `json:"period"`
	// MonthRPUHours is the limit over this month (a daily or weekly limit
	// times the days).
	MonthRPUHours   float64    `json:"month_rpu_hours"`
	UsedPercent     float64    `json:"used_percent"`
	ForecastPercent float64    `json:"forecast_percent"`
	NotifyAtPercent float64    `json:"notify_at_percent"`
	NoticeAt        *time.Time `json:"notice_at,omitempty"`
	ReachedAt       *time.Time `json:"reached_at,omitempty"`
}

// Queueing says how much queries waited.
type Queueing struct {
	// Source is QueriesQueued (a stored series), SYS_QUERY_HISTORY.queue_time,
	// or none.
	Source string `json:"source"`
	// From a QueriesQueued series: the share of samples with queries
	// queued, and the most at once.
	QueuedSamplesPercent float64 `json:"queued_samples_percent,omitempty"`
	MaxQueued            float64 `json:"max_queued,omitempty"`
	// From SYS_QUERY_HISTORY: queries, how many queued, for how long.
	Queries         int64   `json:"queries,omitempty"`
	Queued          int64   `json:"queued,omitempty"`
	QueuedPercent   float64 `json:"queued_percent,omitempty"`
	QueueHours      float64 `json:"queue_hours,omitempty"`
	MaxQueueSeconds float64 `json:"max_queue_seconds,omitempty"`
	Note            string  `json:"note,omitempty"`
}

// ParseMonth reads YYYY-MM in loc; "" is the month of now.
func ParseMonth(s string, loc *time.Location, now time.Time) (time.Time, error) {
	if s == "" {
		n := now.In(loc)
		return time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, loc), nil
	}
	t, err := time.ParseInLocation("2006-01", s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("month %q: want YYYY-MM", s)
	}
	return t, nil
}

// Build reports the month that starts at month (see ParseMonth).
func Build(ctx context.Context, o Options, month time.Time) (*Report, error) {
	if o.Spec == nil || o.Store == nil {
		return nil, errors.New("capacity report: spec and store are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := o.Spec
	c := s.Capacity
	r := &Report{Month: month.Format("2006-01"), Engine: s.Warehouse.Engine, From: month, To: month.AddDate(0, 1, 0),
		BaseRPU: c.BaseRPU, MaxRPU: c.MaxRPU, PricePerRPUHour: c.PricePerRPUHour, Unit: "RPU"}
	r.AsOf = minTime(o.Now(), r.To)
	if r.AsOf.Before(r.From) {
		return nil, fmt.Errorf("month %s has not begun", r.Month)
	}
	if s.Warehouse.Engine == spec.EnginePostgres {
		// PostgreSQL has no RPU: say plainly what stands in for it.
		r.Unit = "backend"
		r.Notes = append(r.Notes, "PostgreSQL has no RPU: a backend running a query stands for one RPU, max_rpu is read as that many busy backends, and the costs price a backend-hour as an RPU-hour")
	}
	samples, source, err := readSamples(ctx, o.Store, s, r.From, r.AsOf)
	if err != nil {
		return nil, err
	}
	r.Source = source
	if o.Usage != nil {
		samples = r.overlayUsage(ctx, o.Usage, samples)
	}
	r.samples = samples
	r.totals()
	if err := r.coverage(ctx, o.Store); err != nil {
		return nil, err
	}
	r.forecast()
	r.limit(c.UsageLimit)
	if r.Queueing, err = queueing(ctx, o, r); err != nil {
		r.Notes = append(r.Notes, err.Error())
	}
	if err := r.leases(ctx, o); err != nil {
		return nil, err
	}
	r.Scenarios = scenarios(r)
	r.Advice = advise(r, reviewThreshold(s))
	return r, nil
}

// overlayUsage replaces the stored samples of the time SYS_SERVERLESS_USAGE
// covers with its rows, which also say what was billed.
func (r *Report) overlayUsage(ctx context.Context, u UsageSource, stored []sample) []sample {
	from := maxTime(r.From, r.AsOf.Add(-7*24*time.Hour))
	rows, err := u.Usage(ctx, from, r.AsOf)
	if err != nil {
		r.Notes = append(r.Notes, err.Error())
		return stored
	}
	if len(rows) == 0 {
		return stored
	}
	cut := rows[0].At
	var out []sample
	for _, s := range stored {
		if s.At.Before(cut) {
			out = append(out, s)
		}
	}
	for _, u := range rows {
		out = append(out, sample{At: u.At, Dur: u.Dur, RPU: u.Capacity, Used: u.ComputeSeconds, Charged: u.Charged})
	}
	r.Source += fmt.Sprintf("; SYS_SERVERLESS_USAGE from %s", cut.Format(time.RFC3339))
	return out
}

// totals sums use, cost, busy time and time at max.
func (r *Report) totals() {
	var used, charged float64
	var busy, atMax time.Duration
	for _, s := range r.samples {
		used += s.Used
		charged += s.Charged
		if s.RPU > 0 || s.Used > 0 {
			busy += s.Dur
			if s.RPU >= float64(r.MaxRPU) {
				atMax += s.Dur
			}
		}
		r.PeakRPU = math.Max(r.PeakRPU, s.RPU)
	}
	r.RPUHours = round2(used / 3600)
	r.ChargedRPUHours = round2(charged / 3600)
	r.BusyHours = round2(busy.Hours())
	if busy > 0 {
		r.AtMaxPercent = round1(100 * atMax.Hours() / busy.Hours())
	}
}

// coverage finds when the store's data of the month begins: the month's
// start if anything was stored before it, else the first datapoint of any
// series (compute series have no points while a workgroup idles; the
// collector's other series do).
func (r *Report) coverage(ctx context.Context, st *store.Store) error {
	first, ok, err := st.FirstDatapointBefore(ctx, r.AsOf)
	if err != nil {
		return fmt.Errorf("read the store's first datapoint: %w", err)
	}
	if ok {
		from := maxTime(r.From, first)
		r.CoveredFrom = &from
	}
	return nil
}

// forecast projects to month end at the rate of the last 7 days of data,
// and estimates the start of the month that has no data at the month's
// average rate.
func (r *Report) forecast() {
	charged := r.ChargedRPUHours
	if r.CoveredFrom != nil {
		covered := r.AsOf.Sub(*r.CoveredFrom).Hours()
		if gap := r.CoveredFrom.Sub(r.From).Hours(); gap > 0 && covered > 0 {
			r.EstimatedUncoveredRPUHours = round2(charged / covered * gap)
			r.Notes = append(r.Notes, fmt.Sprintf("no data before %s (store retention or when collection began): %.1f RPU-hours estimated for that time",
				r.CoveredFrom.Format(time.RFC3339), r.EstimatedUncoveredRPUHours))
		}
	}
	recent := 0.0
	window := maxTime(r.AsOf.Add(-7*24*time.Hour), r.From)
	if r.CoveredFrom != nil {
		window = maxTime(window, *r.CoveredFrom)
	}
	for _, s := range r.samples {
		if !s.At.Before(window) {
			recent += s.Charged / 3600
		}
	}
	rate := 0.0
	if h := r.AsOf.Sub(window).Hours(); h > 0 {
		rate = recent / h
	}
	total := charged + r.EstimatedUncoveredRPUHours
	r.ForecastRPUHours = round2(total + rate*r.To.Sub(r.AsOf).Hours())
	r.Cost = round2((charged + r.EstimatedUncoveredRPUHours) * r.PricePerRPUHour)
	r.ForecastCost = round2(r.ForecastRPUHours * r.PricePerRPUHour)
	r.rate = rate
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
func round2(v float64) float64 { return math.Round(v*100) / 100 }

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
