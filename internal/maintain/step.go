package maintain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// Trigger prefixes, as recorded in maintenance_runs.trigger.
const (
	TriggerSchedule  = "schedule"
	TriggerCatchUp   = "catch-up"
	TriggerPipeline  = "pipeline_success"
	TriggerCondition = "condition"
)

// lateAfter is how late a scheduled run may start and still count as on
// time rather than as a catch-up.
const lateAfter = time.Minute

// firing is a job the step decided to run, and why.
type firing struct {
	job     *spec.Job
	trigger string
}

// step is one look at the jobs at one instant.
type step struct {
	s      *Scheduler
	now    time.Time
	states map[string]jobState
	busy   *bool
	// success is the pipeline's last success, read at most once a step.
	success     *time.Time
	successRead bool
	errs        []error
	fire        []firing
}

// Step looks at every job once, at the scheduler's clock's now, records
// what it missed, and runs what is due, one job after another.
func (s *Scheduler) Step(ctx context.Context) error {
	states, err := loadStates(ctx, s.o.Store)
	if err != nil {
		return err
	}
	st := &step{s: s, now: s.o.Now(), states: states}
	for _, j := range s.jobs {
		st.job(ctx, j)
	}
	for _, f := range st.fire {
		if ctx.Err() != nil {
			break
		}
		s.log.Info("maintenance job due", "job", f.job.Name, "trigger", f.trigger)
		if _, err := s.o.Runner.RunJob(ctx, f.job.Name, f.trigger); err != nil {
			st.errs = append(st.errs, fmt.Errorf("job %s: %w", f.job.Name, err))
		}
	}
	return errors.Join(st.errs...)
}

func (st *step) job(ctx context.Context, j *spec.Job) {
	state := st.states[j.Name]
	before := state
	if sc := st.s.sched[j.Name]; sc != nil {
		st.cron(ctx, j, sc, &state)
	}
	if j.After == "pipeline_success" {
		st.event(ctx, j, &state)
	}
	if j.Schedule == "" && j.After == "" && j.When != nil {
		st.condition(ctx, j, &state)
	}
	if state != before {
		if err := saveState(ctx, st.s.o.Store, j.Name, state); err != nil {
			st.errs = append(st.errs, err)
		}
	}
}

// due queues a job to run and notes it in its state, before it runs: a
// crash mid-run does not run it twice.
func (st *step) due(j *spec.Job, state *jobState, trigger string) {
	for _, f := range st.fire {
		if f.job == j {
			return // one run a step, whatever fired it
		}
	}
	state.LastRunAt, state.LastTrigger = st.now, trigger
	st.fire = append(st.fire, firing{j, trigger})
}

// cron handles a scheduled job: runs the latest firing since the last one
// handled if it is within catch_up, and records the others as missed.
func (st *step) cron(ctx context.Context, j *spec.Job, sc *Schedule, state *jobState) {
	if state.LastDue.IsZero() {
		state.LastDue = st.now // first sight: nothing was missed
		return
	}
	last, n, ok := sc.Last(state.LastDue, st.now)
	if !ok {
		return
	}
	state.LastDue = last
	at := last.In(sc.Location()).Format(time.RFC3339)
	late := st.now.Sub(last)
	if late > j.CatchUp.D() {
		st.missed(ctx, j, TriggerSchedule+" "+at, last, fmt.Sprintf(
			"%d scheduled run(s) missed, the last due %s, %s before dpcops could start it (catch_up %s)",
			n, at, late.Round(time.Second), j.CatchUp.D()))
		return
	}
	if n > 1 {
		st.missed(ctx, j, TriggerSchedule+" "+at, last, fmt.Sprintf(
			"%d earlier scheduled run(s) missed before the one due %s, which runs", n-1, at))
	}
	trigger := TriggerSchedule + " " + at
	if late > lateAfter {
		trigger = TriggerCatchUp + " " + at
	}
	st.due(j, state, trigger)
}

// event handles a job that follows pipeline successes.
func (st *step) event(ctx context.Context, j *spec.Job, state *jobState) {
	if !st.awake(ctx) {
		return
	}
	if !st.successRead {
		var err error
		st.success, err = st.s.events.LastPipelineSuccess(ctx)
		st.successRead = true
		if err != nil {
			st.errs = append(st.errs, fmt.Errorf("read pipeline events: %w", err))
		}
	}
	ls := st.success
	switch {
	case state.LastEvent.IsZero() && ls == nil:
		state.LastEvent = st.now // first sight, no success yet: act on the first one
		return
	case state.LastEvent.IsZero():
		state.LastEvent = *ls // first sight: act on the successes after this one
		return
	case ls == nil || !ls.After(state.LastEvent):
		return
	}
	state.LastEvent = *ls
	at := ls.Format(time.RFC3339)
	if late := st.now.Sub(*ls); late > j.CatchUp.D() {
		st.missed(ctx, j, TriggerPipeline+" "+at, *ls, fmt.Sprintf(
			"pipeline success at %s seen %s later (catch_up %s)", at, late.Round(time.Second), j.CatchUp.D()))
		return
	}
	st.due(j, state, TriggerPipeline+" "+at)
}

// condition checks a condition-only job every ConditionInterval.
func (st *step) condition(ctx context.Context, j *spec.Job, state *jobState) {
	if st.now.Sub(state.LastCheck) < st.s.o.ConditionInterval || !st.awake(ctx) {
		return
	}
	state.LastCheck = st.now
	st.due(j, state, TriggerCondition)
}

// awake asks Busy once a step.
func (st *step) awake(ctx context.Context) bool {
	if st.s.o.Busy == nil {
		return true
	}
	if st.busy == nil {
		b, err := st.s.o.Busy(ctx)
		if err != nil {
			st.s.log.Warn("cannot tell whether the warehouse is awake; SQL deferred", "err", err)
		}
		st.busy = &b
	}
	return *st.busy
}

// missed records a run that did not happen.
func (st *step) missed(ctx context.Context, j *spec.Job, trigger string, due time.Time, why string) {
	now := st.now
	_, err := insertRun(ctx, st.s.o.Store, Run{Job: j.Name, Action: j.Action, Trigger: trigger,
		StartedAt: due, FinishedAt: &now, Outcome: OutcomeMissed, Error: why})
	if err != nil {
		st.errs = append(st.errs, err)
	}
	st.s.log.Warn("maintenance run missed", "job", j.Name, "why", why)
}
