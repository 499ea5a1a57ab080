package maintain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// OutcomePlanned marks the runs a dry run returns; they are not recorded.
const OutcomePlanned = "planned"

// TriggerManual is the trigger of runs asked for by a person.
const TriggerManual = "manual"

// Run runs one job (every enabled auto job when job is ""), or with dryRun
// returns what it would run without running or recording anything. It
// returns the runs it recorded. The error is for a job that could not run
// at all; each statement's own failure is in its run.
func (r *Runner) Run(ctx context.Context, job string, dryRun bool) ([]Run, error) {
	jobs := r.enabledJobs(false)
	if job != "" {
		j, err := r.job(job)
		if err != nil {
			return nil, err
		}
		jobs = []*spec.Job{j}
	}
	if dryRun {
		items, err := r.plan(ctx, jobs)
		return planned(items, r.o.Now()), err
	}
	var out []Run
	var errs []error
	for _, j := range jobs {
		runs, err := r.RunJob(ctx, j.Name, TriggerManual)
		out = append(out, runs...)
		if err != nil {
			errs = append(errs, fmt.Errorf("job %s: %w", j.Name, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return out, errors.Join(errs...)
}

func planned(items []Item, now time.Time) []Run {
	out := make([]Run, 0, len(items))
	for _, it := range items {
		out = append(out, Run{Job: it.Job, Action: it.Action, Target: it.Table, Statement: it.Statement,
			Reason: it.Reason, Trigger: TriggerManual, StartedAt: now, Outcome: OutcomePlanned})
	}
	return out
}

// RunJob runs one job now, as its trigger says (the scheduler's runs and
// manual ones share it), and returns the runs it recorded.
func (r *Runner) RunJob(ctx context.Context, name, trigger string) ([]Run, error) {
	if r.o.Store == nil {
		return nil, errors.New("maintenance run: no store to record runs in (--data)")
	}
	j, err := r.job(name)
	if err != nil {
		return nil, err
	}
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-r.sem }()
	x := &jobRun{r: r, j: j, trigger: trigger}
	err = x.run(ctx)
	return x.runs, err
}

// jobRun is one run of one job.
type jobRun struct {
	r       *Runner
	j       *spec.Job
	trigger string
	runs    []Run
}

func (x *jobRun) run(ctx context.Context) error {
	if x.j.Action == spec.ActionCapacityReview {
		return nil // advice: plans show it, nothing runs
	}
	items, err := x.r.plan(ctx, []*spec.Job{x.j})
	if err != nil {
		x.record(ctx, Run{Outcome: OutcomeFailed, Error: err.Error()})
		return err
	}
	if n := countRunnable(items); n > 0 {
		defer x.openJobWindow(ctx, n)()
	}
	for i, it := range items {
		if it.Advice() {
			x.record(ctx, Run{Target: it.Table, Action: it.Action, Reason: it.Reason, Outcome: OutcomeSkipped, Error: "advice for people: nothing to run"})
			continue
		}
		if why := x.waitPipeline(ctx); why != "" {
			x.record(ctx, Run{Outcome: OutcomeSkipped, Error: fmt.Sprintf("%s; %d planned statement(s) not run", why, countRunnable(items[i:]))})
			return nil
		}
		x.item(ctx, it)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

func countRunnable(items []Item) int {
	n := 0
	for _, it := range items {
		if !it.Advice() {
			n++
		}
	}
	return n
}

// waitVacuum takes the right to VACUUM: no other VACUUM running, and
// (PostgreSQL) dpcops' advisory lock. It returns why not, or "".
func (x *jobRun) waitVacuum(ctx context.Context) string {
	o := x.r.o
	deadline := o.Now().Add(o.VacuumWait)
	for {
		busy, err := x.r.wh.vacuumRunning(ctx)
		if err != nil {
			return "cannot tell whether another VACUUM runs (" + err.Error() + ")"
		}
		if !busy {
			locked, err := x.r.wh.lock(ctx)
			if err != nil {
				return "cannot take the VACUUM lock (" + err.Error() + ")"
			}
			if locked {
				return ""
			}
		}
		if !o.Now().Before(deadline) {
			return fmt.Sprintf("another VACUUM is running (waited %s): one VACUUM at a time", o.VacuumWait)
		}
		if err := o.Sleep(ctx, o.Poll); err != nil {
			return "stopped while waiting for another VACUUM to end"
		}
	}
}

func isVacuum(stmt string) bool { return strings.HasPrefix(stmt, "VACUUM") }

// item runs one planned statement and records it.
func (x *jobRun) item(ctx context.Context, it Item) {
	base := Run{Target: it.Table, Action: it.Action, Statement: it.Statement, Reason: it.Reason}
	if isVacuum(it.Statement) {
		if why := x.waitVacuum(ctx); why != "" {
			base.Outcome, base.Error = OutcomeSkipped, why
			x.record(ctx, base)
			return
		}
		defer x.unlock(ctx)
	}
	before, ok, err := x.r.wh.figures(ctx, it.Schema, it.Name)
	switch {
	case err != nil:
		base.Outcome, base.Error = OutcomeFailed, "read the table's figures: "+err.Error()
		x.record(ctx, base)
		return
	case !ok:
		base.Outcome, base.Error = OutcomeSkipped, "table no longer exists (dropped after planning)"
		x.record(ctx, base)
		return
	}
	base.Before, base.Outcome = before, OutcomeRunning
	run := x.start(ctx, base)
	x.execute(ctx, run, it)
}

// unlock releases the VACUUM lock, even when ctx has ended (dpcops
// shutting down): the statement has stopped by then, on the session that
// holds the lock.
func (x *jobRun) unlock(ctx context.Context) {
	if err := x.r.wh.unlock(context.WithoutCancel(ctx)); err != nil {
		x.r.log.Warn("maintenance", "job", x.j.Name, "err", err)
	}
}

// start records a run as running.
func (x *jobRun) start(ctx context.Context, base Run) Run {
	base.Job, base.Trigger, base.StartedAt = x.j.Name, x.trigger, x.r.o.Now()
	id, err := insertRun(ctx, x.r.o.Store, base)
	if err != nil {
		x.r.log.Error("maintenance run not recorded", "job", x.j.Name, "target", base.Target, "err", err)
	}
	base.ID = id
	return base
}

// execute runs a started run's statement and records its end.
func (x *jobRun) execute(ctx context.Context, run Run, it Item) {
	timeout := x.j.Timeout.D()
	res, err := x.r.wh.statement(ctx, run.Statement, timeout, x.r.o.LockTimeout)
	run.Outcome, run.Error = classify(ctx, err, timeout, x.r.o.LockTimeout)
	var report []CompressionRow
	if run.Outcome == OutcomeSucceeded && run.Action == spec.ActionAnalyzeCompression {
		if report, err = parseCompression(res); err != nil {
			run.Outcome, run.Error = OutcomeFailed, err.Error()
		}
	}
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer wcancel()
	if run.Outcome == OutcomeSucceeded {
		if after, ok, err := x.r.wh.figures(wctx, it.Schema, it.Name); err == nil && ok {
			run.After = after
		}
	}
	now := x.r.o.Now()
	run.FinishedAt = &now
	x.r.log.Info("maintenance statement", "job", x.j.Name, "statement", run.Statement, "outcome", run.Outcome, "error", run.Error, "took", now.Sub(run.StartedAt))
	if run.ID != 0 {
		if err := finishRun(wctx, x.r.o.Store, run, report); err != nil {
			x.r.log.Error("maintenance run end not recorded", "id", run.ID, "err", err)
		}
	}
	x.runs = append(x.runs, run)
}

// record records a run that ended as soon as it began (skipped, failed to
// start).
func (x *jobRun) record(ctx context.Context, run Run) {
	if run.Action == "" {
		run.Action = x.j.Action
	}
	run.Job, run.Trigger, run.StartedAt = x.j.Name, x.trigger, x.r.o.Now()
	run.FinishedAt = &run.StartedAt
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	id, err := insertRun(wctx, x.r.o.Store, run)
	if err != nil {
		x.r.log.Error("maintenance run not recorded", "job", x.j.Name, "err", err)
	}
	run.ID = id
	x.r.log.Info("maintenance", "job", x.j.Name, "target", run.Target, "outcome", run.Outcome, "error", run.Error)
	x.runs = append(x.runs, run)
}

// classify turns a statement's error into an outcome and its explanation.
func classify(ctx context.Context, err error, timeout, lockTimeout time.Duration) (string, string) {
	if err == nil {
		return OutcomeSucceeded, ""
	}
	if ctx.Err() != nil {
		return OutcomeCancelled, "dpcops stopped the run (" + ctx.Err().Error() + ")"
	}
	var qe *pgwire.QueryError
	if errors.As(err, &qe) {
		switch qe.Code {
		case "42P01":
			return OutcomeSkipped, "table no longer exists (dropped after planning): " + qe.Message
		case "55P03":
			return OutcomeSkipped, fmt.Sprintf("lock not granted within %s: another session holds the table (%s)", lockTimeout, qe.Message)
		case "57014":
			if strings.Contains(qe.Message, "statement timeout") {
				return OutcomeCancelled, fmt.Sprintf("statement timeout (%s) reached: %s", timeout, qe.Message)
			}
			return OutcomeCancelled, "cancelled: " + qe.Message
		}
	}
	return OutcomeFailed, err.Error()
}
