package capacity

import (
	"context"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// busyLookback is how recent a compute datapoint must be to call the
// warehouse busy (CloudWatch's one-minute points arrive a few minutes
// late).
const busyLookback = 5 * time.Minute

// Busy reports whether the warehouse used compute in the last five
// minutes, from the stored compute series: SQL sent now breaks no idle
// period. PostgreSQL is always busy: it does not bill idle time.
func Busy(ctx context.Context, st *store.Store, s *spec.Spec, now time.Time) (bool, error) {
	if s.Warehouse.Engine == spec.EnginePostgres {
		return true, nil
	}
	for _, source := range []string{"compute_capacity", "compute_seconds"} {
		m, d, ok := seriesOf(s, source)
		if !ok {
			continue
		}
		pts, err := st.Points(ctx, m, d, now.Add(-busyLookback), now.Add(time.Second))
		if err != nil {
			return false, err
		}
		for _, p := range pts {
			if p.Value > 0 {
				return true, nil
			}
		}
	}
	return false, nil
}

// BusyFunc binds Busy to a store and clock, for qmr.Options.Busy and
// maintain.SchedulerOptions.Busy.
func BusyFunc(st *store.Store, s *spec.Spec, now func() time.Time) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) { return Busy(ctx, st, s, now()) }
}

// AtMaxFunc returns the share (percent) of this month's busy time spent at
// max capacity, from the store, for maintain.Options.AtMaxCapacity.
func AtMaxFunc(st *store.Store, s *spec.Spec, now func() time.Time) func(context.Context) (float64, error) {
	return func(ctx context.Context) (float64, error) {
		month, err := ParseMonth("", s.Location(), now())
		if err != nil {
			return 0, err
		}
		r, err := Build(ctx, Options{Spec: s, Store: st, Now: now}, month)
		if err != nil {
			return 0, err
		}
		return r.AtMaxPercent, nil
	}
}
