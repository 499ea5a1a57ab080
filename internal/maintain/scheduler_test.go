package maintain

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

// fakeRunner records the jobs the scheduler runs and reports pipeline
// successes the test sets.
type fakeRunner struct {
	mu      sync.Mutex
	calls   []string // "job trigger"
	success *time.Time
	onRun   func(n int)
}

func (f *fakeRunner) RunJob(_ context.Context, job, trigger string) ([]Run, error) {
	f.mu.Lock()
	f.calls = append(f.calls, job+" "+trigger)
	n, hook := len(f.calls), f.onRun
	f.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return nil, nil
}

func (f *fakeRunner) LastPipelineSuccess(context.Context) (*time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.success, nil
}

func (f *fakeRunner) take() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

type schedRig struct {
	t     *testing.T
	ctx   context.Context
	st    *store.Store
	clock *fakeClock
	run   *fakeRunner
	s     *Scheduler
}

func newSchedRig(t *testing.T, jobs string, at time.Time, mod ...func(*SchedulerOptions)) *schedRig {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	g := &schedRig{t: t, ctx: ctx, st: st, clock: newFakeClock(at), run: &fakeRunner{}}
	o := SchedulerOptions{Spec: testSpec(t, "postgres://nobody@127.0.0.1:1/none", jobs), Store: st, Runner: g.run, Now: g.clock.Now}
	for _, m := range mod {
		m(&o)
	}
	var err error
	if g.s, err = NewScheduler(o); err != nil {
		t.Fatal(err)
	}
	return g
}

// at steps the scheduler at a time and returns the runs it started.
func (g *schedRig) at(when string) []string {
	g.t.Helper()
	g.clock.Set(utc(when))
	if err := g.s.Step(g.ctx); err != nil {
		g.t.Fatal(err)
	}
	return g.run.take()
}

func (g *schedRig) missed() []Run {
	g.t.Helper()
	runs, err := ReadRuns(g.ctx, g.st, 100)
	if err != nil {
		g.t.Fatal(err)
	}
	var out []Run
	for _, r := range runs {
		if r.Outcome == OutcomeMissed {
			out = append(out, r)
		}
	}
	return out
}

func eq(a, b []string) bool { return strings.Join(a, "|") == strings.Join(b, "|") }

const weeklyTokyo = `  - name: weekly-vacuum
    action: vacuum
    schedule: "0 4 * * SUN"
`

func TestSchedulerRunsOnTimeInTokyo(t *testing.T) {
	g := newSchedRig(t, weeklyTokyo, utc("2026-11-27T01:00:00Z"))
	if got := g.at("2026-11-27T01:00:00Z"); len(got) != 0 {
		t.Fatalf("first sight ran %v", got)
	}
	if got := g.at("2026-11-28T18:59:59Z"); len(got) != 0 {
		t.Fatalf("early: %v", got)
	}
	if got := g.at("2026-11-28T19:00:00Z"); !eq(got, []string{"weekly-vacuum schedule 2026-11-29T04:00:00+09:00"}) {
		t.Fatalf("Sunday 04:00 JST: %v", got)
	}
	if got := g.at("2026-11-28T19:00:30Z"); len(got) != 0 {
		t.Fatalf("ran twice: %v", got)
	}
	jobs, err := g.s.Jobs(g.ctx)
	if err != nil || len(jobs) != 1 || jobs[0].Next == nil || !jobs[0].Next.Equal(utc("2026-12-05T19:00:00Z")) ||
		jobs[0].LastTrigger != "schedule 2026-11-29T04:00:00+09:00" {
		t.Fatalf("jobs %+v %v", jobs, err)
	}
}

func TestSchedulerCatchUpAndMissed(t *testing.T) {
	for _, tc := range []struct {
		name, back string
		want       []string
		missed     []string
	}{
		{"back within catch_up: runs once, late", "2026-11-28T19:40:00Z",
			[]string{"weekly-vacuum catch-up 2026-11-29T04:00:00+09:00"}, nil},
		{"back after catch_up: recorded as missed", "2026-11-28T21:00:00Z",
			nil, []string{"1 scheduled run(s) missed, the last due 2026-11-29T04:00:00+09:00, 2h0m0s before"}},
		{"down for weeks, back within catch_up of the last: older ones missed, the last runs", "2026-12-12T19:30:00Z",
			[]string{"weekly-vacuum catch-up 2026-12-13T04:00:00+09:00"}, []string{"2 earlier scheduled run(s) missed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newSchedRig(t, weeklyTokyo, utc("2026-11-27T01:00:00Z"))
			g.at("2026-11-27T01:00:00Z") // seen, then dpcops stops
			if got := g.at(tc.back); !eq(got, tc.want) {
				t.Errorf("ran %v, want %v", got, tc.want)
			}
			m := g.missed()
			if len(m) != len(tc.missed) {
				t.Fatalf("missed %+v", m)
			}
			for i, want := range tc.missed {
				if !strings.Contains(m[i].Error, want) || m[i].Job != "weekly-vacuum" {
					t.Errorf("missed %q, want %q", m[i].Error, want)
				}
			}
			if got := g.at(tc.back); len(got) != 0 {
				t.Errorf("ran again: %v", got)
			}
		})
	}
}

func TestSchedulerAcrossDaylightSaving(t *testing.T) {
	for _, tc := range []struct {
		name, job, from, to string
		want                []string
	}{
		{"New York gap: 02:30 runs once at 03:00 EDT", `  - name: nightly
    action: analyze
    schedule: "30 2 * * *"
    timezone: America/New_York
`, "2026-03-08T04:00:00Z", "2026-03-08T12:00:00Z", []string{"nightly schedule 2026-03-08T03:00:00-04:00"}},
		{"New York repeated hour: 01:30 runs once", `  - name: nightly
    action: analyze
    schedule: "30 1 * * *"
    timezone: America/New_York
`, "2026-11-01T03:00:00Z", "2026-11-01T09:00:00Z", []string{"nightly schedule 2026-11-01T01:30:00-04:00"}},
		{"Berlin gap", `  - name: nightly
    action: analyze
    schedule: "30 2 * * *"
    timezone: Europe/Berlin
`, "2026-03-28T22:00:00Z", "2026-03-29T06:00:00Z", []string{"nightly schedule 2026-03-29T03:00:00+02:00"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newSchedRig(t, tc.job, utc(tc.from))
			var got []string
			for at := utc(tc.from); !at.After(utc(tc.to)); at = at.Add(5 * time.Minute) {
				got = append(got, g.at(at.Format(time.RFC3339))...)
			}
			if !eq(got, tc.want) {
				t.Errorf("ran %v, want %v", got, tc.want)
			}
			if m := g.missed(); len(m) != 0 {
				t.Errorf("missed %+v", m)
			}
		})
	}
}

const afterPipeline = `  - name: analyze-after-pipeline
    action: analyze
    after: pipeline_success
`

func TestSchedulerFollowsPipelineSuccesses(t *testing.T) {
	g := newSchedRig(t, afterPipeline, utc("2026-11-27T00:00:00Z"))
	first := utc("2026-11-26T23:00:00Z")
	g.run.success = &first
	if got := g.at("2026-11-27T00:00:00Z"); len(got) != 0 {
		t.Fatalf("a success from before dpcops saw the job ran it: %v", got)
	}
	second := utc("2026-11-27T00:30:00Z")
	g.run.success = &second
	if got := g.at("2026-11-27T00:31:00Z"); !eq(got, []string{"analyze-after-pipeline pipeline_success 2026-11-27T00:30:00Z"}) {
		t.Fatalf("after a new success: %v", got)
	}
	if got := g.at("2026-11-27T00:32:00Z"); len(got) != 0 {
		t.Fatalf("the same success ran it twice: %v", got)
	}
	third := utc("2026-11-27T01:00:00Z")
	g.run.success = &third
	if got := g.at("2026-11-27T03:00:00Z"); len(got) != 0 {
		t.Fatalf("a success seen after catch_up ran: %v", got)
	}
	if m := g.missed(); len(m) != 1 || !strings.Contains(m[0].Error, "seen 2h0m0s later") {
		t.Fatalf("missed %+v", m)
	}
}

func TestSchedulerDoesNotWakeAnIdleWarehouse(t *testing.T) {
	busy := true
	g := newSchedRig(t, afterPipeline+weeklyTokyo+`  - name: when-only
    action: vacuum
    when: {metric: unused_percent, comparison: GreaterThanOrEqualToThreshold, threshold: 20}
`, utc("2026-11-28T18:00:00Z"), func(o *SchedulerOptions) {
		o.Busy = func(context.Context) (bool, error) { return busy, nil }
	})
	s := utc("2026-11-28T17:00:00Z")
	g.run.success = &s
	g.at("2026-11-28T18:00:00Z") // sees the jobs and the last success
	busy = false
	later := utc("2026-11-28T18:30:00Z")
	g.run.success = &later
	if got := g.at("2026-11-28T19:00:00Z"); !eq(got, []string{"weekly-vacuum schedule 2026-11-29T04:00:00+09:00"}) {
		t.Fatalf("idle: only the cron job may run, got %v", got)
	}
	busy = true
	got := g.at("2026-11-28T19:01:00Z")
	if !eq(got, []string{"analyze-after-pipeline pipeline_success 2026-11-28T18:30:00Z", "when-only condition"}) {
		t.Fatalf("busy: %v", got)
	}
	if got := g.at("2026-11-28T19:30:00Z"); len(got) != 0 {
		t.Fatalf("condition checked again within the hour: %v", got)
	}
	if got := g.at("2026-11-28T20:01:00Z"); !eq(got, []string{"when-only condition"}) {
		t.Fatalf("condition an hour later: %v", got)
	}
}

func TestSchedulerIgnoresManualJobsAndCapacityReviews(t *testing.T) {
	g := newSchedRig(t, `  - name: vacuum-full-unused-space
    action: vacuum_full
    mode: manual
    schedule: "* * * * *"
  - name: raise-rpu-limit
    action: capacity_review
    when: {metric: at_max_capacity_percent, comparison: GreaterThanOrEqualToThreshold, threshold: 10}
`, utc("2026-11-27T00:00:00Z"))
	g.at("2026-11-27T00:00:00Z")
	if got := g.at("2026-11-27T05:00:00Z"); len(got) != 0 {
		t.Fatalf("ran %v", got)
	}
}

func TestSchedulerRejectsAnInvalidCron(t *testing.T) {
	st := storetest.Open(t)
	s := testSpec(t, "postgres://nobody@127.0.0.1:1/none", weeklyTokyo)
	s.Maintenance[0].Schedule = "61 4 * * SUN" // past validation, as a spec built in code could be
	_, err := NewScheduler(SchedulerOptions{Spec: s, Store: st, Runner: &fakeRunner{}})
	if err == nil || !strings.Contains(err.Error(), "maintenance job weekly-vacuum: invalid cron expression") {
		t.Fatalf("err %v", err)
	}
}

func TestSchedulerRunLoopOnAFakeClock(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var g *schedRig
	g = newSchedRig(t, weeklyTokyo, utc("2026-11-27T00:00:00Z"), func(o *SchedulerOptions) {
		o.Tick = time.Hour
		o.After = func(d time.Duration) <-chan time.Time {
			g.clock.Set(g.clock.Now().Add(d))
			if g.clock.Now().After(utc("2026-12-14T00:00:00Z")) {
				stop()
			}
			ch := make(chan time.Time, 1)
			ch <- g.clock.Now()
			return ch
		}
	})
	// A run left marked running by a stopped dpcops is closed at start.
	if _, err := insertRun(ctx, g.st, Run{Job: "weekly-vacuum", Action: "vacuum", StartedAt: utc("2026-11-20T00:00:00Z"), Outcome: OutcomeRunning}); err != nil {
		t.Fatal(err)
	}
	g.s.Run(ctx)
	want := []string{"weekly-vacuum schedule 2026-11-29T04:00:00+09:00", "weekly-vacuum schedule 2026-12-06T04:00:00+09:00", "weekly-vacuum schedule 2026-12-13T04:00:00+09:00"}
	if got := g.run.take(); !eq(got, want) {
		t.Errorf("two weeks and a bit: %v", got)
	}
	runs, _ := ReadRuns(context.Background(), g.st, 10)
	if len(runs) != 1 || runs[0].Outcome != OutcomeFailed || !strings.Contains(runs[0].Error, "dpcops stopped") {
		t.Errorf("stale run %+v", runs)
	}
}
