package capacity

import (
	"context"
	"time"

	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// busyFresh is how recent the collector's word on the workgroup must be:
// a few of its cycles.
const busyFresh = 5 * time.Minute

// Busy reports whether the workgroup is busy with work other than dpcops'
// own, as the collector last found it (collect.StateBusy, from the query
// counts in CloudWatch): SQL sent now breaks no idle period. Compute
// metrics cannot say so: they are 30-minute figures, and dpcops' own
// queries would keep them above zero. PostgreSQL is always busy: it does
// not bill idle time.
func Busy(ctx context.Context, st *store.Store, s *spec.Spec, now time.Time) (bool, error) {
	if s.Warehouse.Engine == spec.EnginePostgres {
		return true, nil
	}
	states, err := st.States(ctx)
	if err != nil {
		return false, err
	}
	b, ok := states[collect.StateBusy]
	return ok && b.Value > 0 && now.Sub(b.Time) <= busyFresh, nil
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
