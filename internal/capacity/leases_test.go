package capacity

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/lease"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// TestReportShowsTheMonthsLeases: fifteen nights at 32 RPU under a lease
// each, days at the normal 8. The report gives the hours raised, the use
// during leases, and what keeping 32 RPU always could have cost more.
func TestReportShowsTheMonthsLeases(t *testing.T) {
	ctx := context.Background()
	s := testSpec(t, spec.EngineRedshiftServerless, redshiftMetrics, "")
	s.Capacity.Lease = &spec.Lease{NormalMaxRPU: 8, BatchMaxRPU: 32, MaxDuration: spec.Duration(4 * time.Hour), Pipelines: []string{"dpc-elt"}}
	st := openStore(t)
	seedRedshift(t, st, jst(2026, 11, 1, 0), jst(2026, 11, 15, 0), nightlyBatch)
	var now time.Time
	// Recorded only (no Capacity): the bookkeeping is the same.
	m, err := lease.New(lease.Options{Spec: s, Store: st, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for d := jst(2026, 11, 1, 0); !d.After(jst(2026, 11, 15, 0)); d = d.AddDate(0, 0, 1) {
		now = d.Add(time.Hour + 55*time.Minute)
		if _, _, err := m.Raise(ctx, lease.Request{Pipeline: "dpc-elt", Who: "sfn", Why: "nightly dbt"}); err != nil {
			t.Fatal(err)
		}
		now = d.Add(4*time.Hour + 5*time.Minute)
		if _, _, err := m.Lower(ctx, 0, "sfn", "run ended"); err != nil {
			t.Fatal(err)
		}
	}
	r := build(t, s, st, "", jst(2026, 11, 16, 0), nil)
	l := r.Leases
	if l == nil {
		t.Fatal("no leases in the report")
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		{"count", float64(l.Count), 15},
		{"raised hours", l.RaisedHours, 32.5},    // 15 × 2 h 10 min
		{"RPU-hours in leases", l.RPUHours, 960}, // 15 × 2 h × 32
		{"cost in leases", l.Cost, 474.24},       // 960 × 0.494
		{"outside at normal max", l.OutsideAtNormalMaxPercent, 100},
		{"always 32: extra at most", l.AlwaysBatchExtraCostHigh, 711.36}, // 60 h × 24 RPU × 0.494
		{"exposure at 8", l.ExposurePerHourNormal, 3.95},
		{"exposure at 32", l.ExposurePerHourBatch, 15.81},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(l.List) != 15 || l.List[0].RPUHours != 64 || l.List[0].CloseReason != "run ended" || l.List[0].Open {
		t.Errorf("first lease %+v", l.List[0])
	}
	var b strings.Builder
	if err := r.WriteText(&b, s.Location()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Capacity leases (8 → 32 RPU): 15 this month, 32.5 h at the raised max, 960.0 RPU-hours used during them (cost 474.24)") {
		t.Errorf("text report:\n%s", b.String())
	}

	// Without capacity.lease there is no section.
	s.Capacity.Lease = nil
	if r := build(t, s, st, "", jst(2026, 11, 16, 0), nil); r.Leases != nil {
		t.Errorf("leases without capacity.lease: %+v", r.Leases)
	}
}
