package capacity

import (
	"context"
	"fmt"
	"time"

	"github.com/dpc-learning/dpcops/internal/lease"
)

// Leases is the month's capacity leases (capacity.lease): how long the
// workgroup ran at the raised max, what it used meanwhile, and what
// keeping the batch max always would have cost instead.
type Leases struct {
	NormalMaxRPU int `json:"normal_max_rpu"`
	BatchMaxRPU  int `json:"batch_max_rpu"`
	Count        int `json:"count"`
	// RaisedHours is the time under a lease in the month to date.
	RaisedHours float64 `json:"raised_hours"`
	// RPUHours and Cost are the use during leases.
	RPUHours float64 `json:"rpu_hours"`
	Cost     float64 `json:"cost"`
	// OutsideAtNormalMaxPercent is the share of busy time outside leases
	// spent at normal_max_rpu: the time the lower max held use back.
	OutsideAtNormalMaxPercent float64 `json:"outside_at_normal_max_percent"`
	// AlwaysBatchExtraCostHigh bounds what the month would have cost more
	// with batch_max_rpu always: every minute outside leases held at
	// normal_max_rpu using the whole batch max instead. Serverless bills
	// what is used, so the same work costs the same; the difference is
	// what runaway or spiky queries could have taken.
	AlwaysBatchExtraCostHigh float64 `json:"always_batch_extra_cost_high"`
	// ExposurePerHour is the most an hour outside leases can cost, at
	// normal and at batch max.
	ExposurePerHourNormal float64    `json:"exposure_per_hour_normal"`
	ExposurePerHourBatch  float64    `json:"exposure_per_hour_batch"`
	List                  []LeaseRow `json:"leases"`
}

// LeaseRow is one lease within the month.
type LeaseRow struct {
	ID       int64     `json:"id"`
	Pipeline string    `json:"pipeline,omitempty"`
	RaisedTo int       `json:"raised_to"`
	From     time.Time `json:"from"`
	// To is when it closed, or the report's as-of time while open.
	To          time.Time `json:"to"`
	Open        bool      `json:"open"`
	Hours       float64   `json:"hours"`
	RPUHours    float64   `json:"rpu_hours"`
	CloseReason string    `json:"close_reason,omitempty"`
}

// leases sums the month's leases over the samples.
func (r *Report) leases(ctx context.Context, o Options) error {
	l := o.Spec.Capacity.Lease
	if l == nil {
		return nil
	}
	ls, err := lease.List(ctx, o.Store, r.From, r.AsOf)
	if err != nil {
		return fmt.Errorf("capacity leases: %w", err)
	}
	price := r.PricePerRPUHour
	out := &Leases{NormalMaxRPU: l.NormalMaxRPU, BatchMaxRPU: l.BatchMaxRPU, Count: len(ls),
		ExposurePerHourNormal: round2(float64(l.NormalMaxRPU) * price), ExposurePerHourBatch: round2(float64(l.BatchMaxRPU) * price)}
	windows := make([][2]time.Time, len(ls))
	var raised time.Duration
	for i, x := range ls {
		from, to := maxTime(x.Started, r.From), r.AsOf
		if x.Closed != nil {
			to = minTime(*x.Closed, r.AsOf)
		}
		windows[i] = [2]time.Time{from, to}
		raised += to.Sub(from)
		out.List = append(out.List, LeaseRow{ID: x.ID, Pipeline: x.Pipeline, RaisedTo: x.RaisedTo, From: from, To: to,
			Open: x.Open(), Hours: round2(to.Sub(from).Hours()), CloseReason: x.CloseReason})
	}
	in := func(t time.Time) int {
		for i, w := range windows {
			if !t.Before(w[0]) && t.Before(w[1]) {
				return i
			}
		}
		return -1
	}
	var used, charged float64
	var busyOutside, atNormal time.Duration
	var extra float64
	perLease := make([]float64, len(ls))
	for _, s := range r.samples {
		if i := in(s.At); i >= 0 {
			used += s.Used
			charged += s.Charged
			perLease[i] += s.Used
			continue
		}
		if s.RPU > 0 || s.Used > 0 {
			busyOutside += s.Dur
			if s.RPU >= float64(l.NormalMaxRPU) {
				atNormal += s.Dur
				extra += float64(l.BatchMaxRPU-l.NormalMaxRPU) * s.Dur.Hours()
			}
		}
	}
	for i := range out.List {
		out.List[i].RPUHours = round2(perLease[i] / 3600)
	}
	out.RaisedHours = round2(raised.Hours())
	out.RPUHours = round2(used / 3600)
	out.Cost = round2(charged / 3600 * price)
	if busyOutside > 0 {
		out.OutsideAtNormalMaxPercent = round1(100 * atNormal.Hours() / busyOutside.Hours())
	}
	out.AlwaysBatchExtraCostHigh = round2(extra * price)
	r.Leases = out
	return nil
}
