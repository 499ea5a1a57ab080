package maintain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// Options are a Runner's collaborators and limits.
type Options struct {
	Spec *spec.Spec
	// Store records runs and compression reports. Required to run; a plan
	// or a dry run needs none.
	Store *store.Store
	// StepFunctions tells whether a pipeline run is open when
	// pipeline.kind is stepfunctions (*aws.Client).
	StepFunctions StepFunctions
	Logger        *slog.Logger
	// Now is the clock (default time.Now); Sleep waits between looks at
	// an open pipeline run or a running VACUUM (default: a timer).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Thresholds replace DefaultThresholds.
	Thresholds *Thresholds
	// PipelineWait bounds the wait for an open pipeline run to end before
	// the job is recorded as skipped (default 30m; NoWait skips at once);
	// VacuumWait bounds the wait for another VACUUM (default 30m); Poll is
	// how often both look again (default 15s); Progress is how often a
	// wait for a pipeline run logs that it still waits (default 1m).
	PipelineWait, VacuumWait, Poll, Progress time.Duration
	// LockTimeout bounds how long a statement waits for its table's lock
	// on PostgreSQL before it is recorded as skipped (default 1m).
	LockTimeout time.Duration
	// AtMaxCapacity returns the share (percent) of this month's busy time
	// spent at max capacity, for capacity_review jobs; nil leaves them
	// out of plans. capacity.AtMaxFunc provides it.
	AtMaxCapacity func(ctx context.Context) (float64, error)
}

// Runner plans and runs maintenance jobs. Its methods are safe for
// concurrent use; jobs run one at a time.
type Runner struct {
	o   Options
	s   *spec.Spec
	th  Thresholds
	log *slog.Logger
	wh  *warehouse
	// sem lets one job run at a time in this process; the advisory lock
	// (PostgreSQL) or the running-VACUUM check (Redshift) covers others.
	sem chan struct{}
}

// NewRunner opens the maintenance sessions (connecting on first use).
func NewRunner(o Options) (*Runner, error) {
	if o.Spec == nil {
		return nil, errors.New("maintenance runner: no spec")
	}
	setDefaults(&o)
	wh, err := openWarehouse(o.Spec, o.StepFunctions)
	if err != nil {
		return nil, err
	}
	th := DefaultThresholds()
	if o.Thresholds != nil {
		th = *o.Thresholds
	}
	return &Runner{o: o, s: o.Spec, th: th, log: o.Logger, wh: wh, sem: make(chan struct{}, 1)}, nil
}

func setDefaults(o *Options) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	for _, d := range []struct {
		p *time.Duration
		v time.Duration
	}{{&o.VacuumWait, 30 * time.Minute}, {&o.Poll, 15 * time.Second}, {&o.Progress, time.Minute}, {&o.LockTimeout, time.Minute}} {
		if *d.p <= 0 {
			*d.p = d.v
		}
	}
	switch {
	case o.PipelineWait == 0:
		o.PipelineWait = 30 * time.Minute
	case o.PipelineWait < 0:
		o.PipelineWait = NoWait
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Close closes the maintenance sessions.
func (r *Runner) Close() error { return r.wh.close() }

// Plan plans every enabled job, auto and manual, over one reading of the
// table statistics.
func (r *Runner) Plan(ctx context.Context) ([]Item, error) {
	return r.plan(ctx, r.enabledJobs(true))
}

// PlanJob plans one job.
func (r *Runner) PlanJob(ctx context.Context, name string) ([]Item, error) {
	j, err := r.job(name)
	if err != nil {
		return nil, err
	}
	return r.plan(ctx, []*spec.Job{j})
}

func (r *Runner) plan(ctx context.Context, jobs []*spec.Job) ([]Item, error) {
	var tables []TableStats
	var read bool
	var items []Item
	for _, j := range jobs {
		if it, ok := r.jobAdvice(ctx, j); ok {
			items = append(items, it...)
			continue
		}
		if !read {
			var note string
			var err error
			if tables, note, err = r.wh.tables(ctx); err != nil {
				return nil, err
			}
			if note != "" {
				r.log.Warn("maintenance plan", "note", note)
			}
			read = true
		}
		items = append(items, PlanJob(r.s.Warehouse.Engine, j, tables, r.th)...)
	}
	return items, nil
}

// jobAdvice plans the jobs that read no table: a capacity review, and
// ANALYZE COMPRESSION on PostgreSQL (which has none). ok says the job is
// one of them.
func (r *Runner) jobAdvice(ctx context.Context, j *spec.Job) ([]Item, bool) {
	switch {
	case j.Action == spec.ActionAnalyzeCompression && r.wh.postgres():
		return []Item{{Job: j.Name, Action: j.Action, Reason: NoCompressionOnPostgres}}, true
	case j.Action != spec.ActionCapacityReview:
		return nil, false
	case r.o.AtMaxCapacity == nil || j.When == nil:
		return nil, true
	}
	pct, err := r.o.AtMaxCapacity(ctx)
	if err != nil {
		r.log.Warn("capacity review not planned", "job", j.Name, "err", err)
		return nil, true
	}
	if !compare(pct, j.When.Comparison, j.When.Threshold) {
		return nil, true
	}
	return []Item{{Job: j.Name, Action: j.Action, Reason: fmt.Sprintf(
		"compute at max capacity (%d) %s %% of busy time this month %s %s %%: review max_rpu (dpcops capacity report)",
		r.s.Capacity.MaxRPU, num(pct), opSymbols[j.When.Comparison], num(j.When.Threshold))}}, true
}

// enabledJobs returns the enabled jobs; manual ones only when asked.
func (r *Runner) enabledJobs(manual bool) []*spec.Job {
	var out []*spec.Job
	for i := range r.s.Maintenance {
		j := &r.s.Maintenance[i]
		if j.Enabled.On() && (manual || j.Mode != "manual") {
			out = append(out, j)
		}
	}
	return out
}

func (r *Runner) job(name string) (*spec.Job, error) {
	j, ok := r.s.Job(name)
	if !ok {
		return nil, fmt.Errorf("no maintenance job named %q", name)
	}
	if !j.Enabled.On() {
		return nil, fmt.Errorf("maintenance job %s is disabled", name)
	}
	return j, nil
}

// Runs returns the newest recorded runs, newest first.
func (r *Runner) Runs(ctx context.Context, limit int) ([]Run, error) {
	if r.o.Store == nil {
		return nil, errors.New("maintenance runs: no store")
	}
	return ReadRuns(ctx, r.o.Store, limit)
}

// Compression returns the latest ANALYZE COMPRESSION report of each
// table.
func (r *Runner) Compression(ctx context.Context) ([]CompressionRow, error) {
	if r.o.Store == nil {
		return nil, errors.New("compression report: no store")
	}
	return ReadCompression(ctx, r.o.Store)
}

// LastPipelineSuccess is when the pipeline last succeeded (nil: never), from
// the ledger or Step Functions.
func (r *Runner) LastPipelineSuccess(ctx context.Context) (*time.Time, error) {
	_, last, err := r.wh.pipelineState(ctx)
	return last, err
}
