package maintain

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// A maintenance window holds back the pages of chosen alarms while it is
// open, as a silence does (it is one: notify.OpenWindow). Two kinds open
// here: the spec's recurring maintenance_windows, which the scheduler
// opens at each firing of their cron, and a job's own, opened while a job
// with a silence list runs (a VACUUM FULL should not page Storage-High).

// window is a recurring window and its schedule.
type window struct {
	w  *spec.Window
	sc *Schedule
}

// parseWindows reads the spec's windows' schedules.
func parseWindows(s *spec.Spec) ([]window, error) {
	var out []window
	for i := range s.Windows {
		w := &s.Windows[i]
		loc, err := time.LoadLocation(w.Timezone)
		if err != nil {
			return nil, fmt.Errorf("maintenance window %s: unknown time zone %q", w.Name, w.Timezone)
		}
		sc, err := ParseSchedule(w.Schedule, loc)
		if err != nil {
			return nil, fmt.Errorf("maintenance window %s: %w", w.Name, err)
		}
		out = append(out, window{w, sc})
	}
	return out, nil
}

// Open opens each recurring window whose latest firing is at most its
// duration ago, once per firing.
func (ws *Windows) Open(ctx context.Context, now time.Time) error {
	for _, w := range ws.ws {
		d := w.w.Duration.D()
		at := w.sc.Next(now.Add(-d))
		if at.IsZero() || at.After(now) {
			continue
		}
		comment := w.w.Comment
		if comment == "" {
			comment = "maintenance window " + w.w.Name
		}
		opened, err := notify.OpenWindow(ctx, ws.st, "window:"+w.w.Name, at, at.Add(d), spec.AlarmsMatching(ws.s, w.w.Alarms...), comment)
		if err != nil {
			return err
		}
		if opened {
			ws.log.Info("maintenance window open", "window", w.w.Name, "until", at.Add(d))
		}
	}
	return nil
}

// Windows opens the spec's maintenance windows, on a loop of its own
// beside the maintenance scheduler (whose jobs run one after another and
// would delay an opening), and without warehouse.dsn too: holding pages
// back needs no SQL.
type Windows struct {
	st  *store.Store
	s   *spec.Spec
	ws  []window
	log *slog.Logger
}

// NewWindows reads the spec's windows.
func NewWindows(s *spec.Spec, st *store.Store, log *slog.Logger) (*Windows, error) {
	ws, err := parseWindows(s)
	return &Windows{st: st, s: s, ws: ws, log: log}, err
}

// Run opens the windows at their firings until ctx ends, looking at
// least once a minute.
func (w *Windows) Run(ctx context.Context) {
	for {
		now := time.Now()
		if err := w.Open(ctx, now); err != nil && ctx.Err() == nil {
			w.log.Error("maintenance windows", "err", err)
		}
		wait := time.Minute
		for _, x := range w.ws {
			if next := x.sc.Next(now); !next.IsZero() && next.Sub(now) < wait {
				wait = next.Sub(now)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// openJobWindow opens the window of a job that silences alarms, for as
// long as its statements may take and their aftermath, and returns the
// func that closes it at the job's end (plus the aftermath).
func (x *jobRun) openJobWindow(ctx context.Context, statements int) func() {
	alarms := spec.AlarmsMatching(x.r.o.Spec, x.j.Silence...)
	if len(alarms) == 0 || x.r.o.Store == nil {
		return func() {}
	}
	after := notify.Aftermath(x.r.o.Spec, alarms)
	start := x.r.o.Now()
	end := start.Add(min(spec.MaxWindow, x.j.Timeout.D()*time.Duration(max(statements, 1))+after))
	by := "job:" + x.j.Name
	if _, err := notify.OpenWindow(ctx, x.r.o.Store, by, start, end, alarms,
		fmt.Sprintf("maintenance job %s (%s) running", x.j.Name, x.j.Action)); err != nil {
		x.r.log.Warn("cannot open the job's maintenance window: its alarms may page", "job", x.j.Name, "err", err)
		return func() {}
	}
	return func() {
		// Its own context: the job's may have ended with the job.
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := notify.CloseWindow(cctx, x.r.o.Store, by, start, x.r.o.Now().Add(after)); err != nil {
			x.r.log.Warn("cannot close the job's maintenance window early: it ends as planned", "job", x.j.Name, "err", err)
		}
	}
}
