package runbook

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// Actor runs the alarms' actions (rerun-pipeline): once per alarm
// episode, after the page is sent — the person paged learns of the alarm
// before dpcops acts on it — or after PageWait if delivery drags on.
type Actor struct {
	Spec      *spec.Spec
	Store     *store.Store
	Alarms    AlarmReader
	Incidents *Incidents
	// Rerun re-runs the pipeline.
	Rerun  func(ctx context.Context) (string, error)
	Logger *slog.Logger
	Now    func() time.Time
	// Every is how often the actor looks (default 10s); PageWait bounds
	// the wait for the page (default 2m).
	Every, PageWait time.Duration
}

// Run acts until ctx ends.
func (a *Actor) Run(ctx context.Context) {
	every := a.Every
	if every == 0 {
		every = 10 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := a.Check(ctx); err != nil && ctx.Err() == nil {
			a.log().Warn("alarm actions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (a *Actor) log() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

// Check runs the actions that are due now.
func (a *Actor) Check(ctx context.Context) error {
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	wait := a.PageWait
	if wait == 0 {
		wait = 2 * time.Minute
	}
	states, err := a.Alarms.States(ctx)
	if err != nil {
		return err
	}
	for _, st := range states {
		spec, ok := a.Spec.Alarm(st.Alarm)
		if !ok || st.State != alarm.Alarm || !slices.Contains(spec.Actions, "rerun-pipeline") {
			continue
		}
		paged, err := a.paged(ctx, st.Alarm, st.Episode)
		if err != nil {
			return err
		}
		if !paged && now.Sub(st.ChangedAt) < wait {
			continue
		}
		const action = "rerun-pipeline"
		claimed, err := a.Incidents.ClaimAction(ctx, st.Alarm, st.Episode, now, action+" started")
		if err != nil {
			return err
		}
		if !claimed {
			continue // acted on already in this episode
		}
		text := "rerun-pipeline: "
		what, err := a.Rerun(ctx)
		if err != nil {
			text += "failed: " + err.Error()
			a.log().Warn("alarm action failed", "alarm", st.Alarm, "episode", st.Episode, "action", action, "err", err)
		} else {
			text += what
			a.log().Info("alarm action", "alarm", st.Alarm, "episode", st.Episode, "action", action, "result", what)
		}
		if _, err := a.Incidents.RecordAction(ctx, st.Alarm, now, text, nil); err != nil {
			return fmt.Errorf("record action: %w", err)
		}
	}
	return nil
}

// paged reports whether every notification of the episode's entry into
// ALARM has left the outbox (sent, or failed for good): no row is pending
// or in flight.
func (a *Actor) paged(ctx context.Context, alarmName string, episode int64) (bool, error) {
	waiting, err := notify.Waiting(ctx, a.Store.Reader(), alarmName, episode)
	return waiting == 0, err
}
