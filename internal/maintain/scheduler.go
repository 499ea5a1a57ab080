package maintain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// JobRunner runs a job now; *Runner implements it.
type JobRunner interface {
	RunJob(ctx context.Context, job, trigger string) ([]Run, error)
}

// PipelineEvents tells when the pipeline last succeeded; *Runner
// implements it (from the ledger or Step Functions).
type PipelineEvents interface {
	LastPipelineSuccess(ctx context.Context) (*time.Time, error)
}

// SchedulerOptions are a Scheduler's collaborators.
type SchedulerOptions struct {
	Spec *spec.Spec
	// Store keeps each job's schedule state and the missed runs.
	Store *store.Store
	// Runner runs the jobs (a *Runner).
	Runner JobRunner
	// Events tells of pipeline successes; nil uses Runner when it can.
	Events PipelineEvents
	// Busy says whether the warehouse is awake anyway, so that watching
	// the ledger and checking conditions by SQL do not wake a serverless
	// workgroup; nil means always (PostgreSQL). Cron jobs run regardless:
	// they are meant to.
	Busy   func(ctx context.Context) (bool, error)
	Logger *slog.Logger
	// Now and After are the clock (default time.Now and time.After).
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// Tick is the longest the scheduler sleeps between looks (default
	// 1m): how late it may notice a pipeline success.
	Tick time.Duration
	// ConditionInterval is how often a job with only a when condition is
	// checked (default 1h).
	ConditionInterval time.Duration
}

// Scheduler fires the spec's auto jobs: on their cron schedules in their
// time zones, after pipeline successes, and (condition-only jobs) every
// ConditionInterval. Manual jobs and capacity reviews never fire.
//
// A scheduled run missed while dpcops was down (or busy running another
// job) runs once when dpcops notices it, if that is within the job's
// catch_up; older ones are recorded as missed. A job dpcops sees for the
// first time has missed nothing: its schedule starts from then.
type Scheduler struct {
	o      SchedulerOptions
	log    *slog.Logger
	jobs   []*spec.Job
	sched  map[string]*Schedule
	events PipelineEvents
}

// NewScheduler checks every job's schedule; an invalid cron expression or
// time zone is an error that names the job.
func NewScheduler(o SchedulerOptions) (*Scheduler, error) {
	if o.Spec == nil || o.Store == nil || o.Runner == nil {
		return nil, errors.New("maintenance scheduler: spec, store and runner are required")
	}
	setSchedulerDefaults(&o)
	s := &Scheduler{o: o, log: o.Logger, sched: map[string]*Schedule{}, events: o.Events}
	if s.events == nil {
		s.events, _ = o.Runner.(PipelineEvents)
	}
	for i := range o.Spec.Maintenance {
		j := &o.Spec.Maintenance[i]
		if !j.Enabled.On() || j.Mode == "manual" || j.Action == spec.ActionCapacityReview {
			continue
		}
		if j.Schedule != "" {
			loc, err := time.LoadLocation(j.Timezone)
			if err != nil {
				return nil, fmt.Errorf("maintenance job %s: unknown time zone %q", j.Name, j.Timezone)
			}
			sc, err := ParseSchedule(j.Schedule, loc)
			if err != nil {
				return nil, fmt.Errorf("maintenance job %s: %w", j.Name, err)
			}
			s.sched[j.Name] = sc
		}
		if j.After != "" && s.events == nil {
			return nil, fmt.Errorf("maintenance job %s follows %s but nothing reports pipeline events", j.Name, j.After)
		}
		s.jobs = append(s.jobs, j)
	}
	return s, nil
}

func setSchedulerDefaults(o *SchedulerOptions) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Tick <= 0 {
		o.Tick = time.Minute
	}
	if o.ConditionInterval <= 0 {
		o.ConditionInterval = time.Hour
	}
}

// Run fires jobs until ctx ends. It first closes the runs a previous
// dpcops left marked running.
func (s *Scheduler) Run(ctx context.Context) {
	s.closeStale(ctx)
	for {
		if err := s.Step(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("maintenance scheduler", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.o.After(s.sleepFor(s.o.Now())):
		}
	}
}

// sleepFor is how long to sleep from now: until the next cron firing, at
// most Tick.
func (s *Scheduler) sleepFor(now time.Time) time.Duration {
	d := s.o.Tick
	for _, sc := range s.sched {
		if next := sc.Next(now); !next.IsZero() && next.Sub(now) < d {
			d = next.Sub(now)
		}
	}
	return max(d, time.Millisecond)
}

// closeStale marks as failed the runs left running by a dpcops that
// stopped: older than the longest job timeout, no statement can still be
// running.
func (s *Scheduler) closeStale(ctx context.Context) {
	longest := spec.DefaultJobTimeout.D()
	for _, j := range s.o.Spec.Maintenance {
		longest = max(longest, j.Timeout.D())
	}
	now := s.o.Now()
	// A job that was running when its dpcops stopped left its window
	// open, for as long as the job might have taken: it is over now, once
	// its alarms have evaluated the time after it.
	for _, j := range s.o.Spec.Maintenance {
		if len(j.Silence) > 0 {
			after := notify.Aftermath(s.o.Spec, spec.AlarmsMatching(s.o.Spec, j.Silence...))
			if err := notify.EndWindows(ctx, s.o.Store, "job:"+j.Name, now.Add(after)); err != nil {
				s.log.Error("close the window of a job left running", "job", j.Name, "err", err)
			}
		}
	}
	if n, err := closeStale(ctx, s.o.Store, now.Add(-longest-time.Hour), now); err != nil {
		s.log.Error("close stale maintenance runs", "err", err)
	} else if n > 0 {
		s.log.Warn("maintenance runs left running by a stopped dpcops recorded as failed", "runs", n)
	}
}

// JobStatus is a job's place in the schedule, for the UI.
type JobStatus struct {
	Job      string `json:"job"`
	Action   string `json:"action"`
	Mode     string `json:"mode"`
	Enabled  bool   `json:"enabled"`
	Schedule string `json:"schedule,omitempty"`
	Timezone string `json:"timezone,omitempty"`
	After    string `json:"after,omitempty"`
	// Next is the next scheduled firing of an auto job with a schedule.
	Next        *time.Time `json:"next,omitempty"`
	LastRunAt   *time.Time `json:"last_run_at,omitempty"`
	LastTrigger string     `json:"last_trigger,omitempty"`
}

// Jobs returns every job of the spec with its next firing and last run.
func (s *Scheduler) Jobs(ctx context.Context) ([]JobStatus, error) {
	states, err := loadStates(ctx, s.o.Store)
	if err != nil {
		return nil, err
	}
	now := s.o.Now()
	var out []JobStatus
	for _, j := range s.o.Spec.Maintenance {
		js := JobStatus{Job: j.Name, Action: j.Action, Mode: j.Mode, Enabled: j.Enabled.On(),
			Schedule: j.Schedule, After: j.After}
		if j.Schedule != "" {
			js.Timezone = j.Timezone
		}
		if sc := s.sched[j.Name]; sc != nil {
			if next := sc.Next(now); !next.IsZero() {
				js.Next = &next
			}
		}
		if st, ok := states[j.Name]; ok && !st.LastRunAt.IsZero() {
			at := st.LastRunAt
			js.LastRunAt, js.LastTrigger = &at, st.LastTrigger
		}
		out = append(out, js)
	}
	return out, nil
}
