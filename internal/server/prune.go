package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/lease"
	"github.com/dpc-learning/dpcops/internal/maintain"
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/inbox"
	"github.com/dpc-learning/dpcops/internal/qmr"
	"github.com/dpc-learning/dpcops/internal/runbook"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// prune deletes, hourly, what is past its retention: datapoints and log
// lines after collect.retention, each package's finished records after
// store.retention. Every prune takes small transactions of its own, so the
// engines write between them. Incidents go before the records their
// timelines read (transitions, deliveries, maintenance runs), which are
// spared for the incidents left; the inbox goes before the outbox, and the
// outbox before alarm history, as their foreign keys require.
func prune(ctx context.Context, st *store.Store, s *spec.Spec, incidents *runbook.Incidents, logger *slog.Logger) {
	keep := s.Store.Retention
	report := func(what string, p store.Pruned, err error) bool {
		if err != nil {
			if ctx.Err() == nil {
				logger.Warn("prune "+what, "err", err)
			}
			return false
		}
		if p.Rows > 0 {
			logger.Info("pruned "+what, "rows", p.Rows, "transactions", p.Batches)
		}
		return true
	}
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		now := time.Now()
		collected := now.Add(-s.Collect.Retention.D())
		notified, history := now.Add(-keep.Notifications.D()), now.Add(-keep.History.D())
		p, err := st.PruneDatapoints(ctx, collected)
		report("datapoints", p, err)
		p, err = st.PruneLogs(ctx, collected)
		report("log lines", p, err)
		p, err = st.PrunePipelineRuns(ctx, collected)
		report("pipeline runs", p, err)
		p, err = inbox.Prune(ctx, st, notified)
		report("inbox", p, err)
		p, err = qmr.Prune(ctx, st, history)
		report("query rule actions", p, err)
		p, err = lease.Prune(ctx, st, history)
		report("capacity leases", p, err)
		p, err = incidents.Prune(ctx, now.Add(-keep.Incidents.D()))
		report("incidents", p, err)
		// Without the incidents' windows nothing they might read goes.
		holds, err := incidents.Holds(ctx)
		if report("incident windows", store.Pruned{}, err) {
			p, err = notify.Prune(ctx, st, notified, holds.Transition)
			report("deliveries", p, err)
			p, err = notify.PruneSilences(ctx, st, notified, holds.Transition)
			report("silences", p, err)
			p, err = alarm.PruneHistory(ctx, st, history, holds.Transition)
			report("alarm history", p, err)
			p, err = maintain.PruneRuns(ctx, st, history, holds.During)
			report("maintenance runs", p, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
