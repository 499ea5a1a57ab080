package maintain

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

var t0 = time.Date(2026, 11, 29, 4, 0, 0, 0, time.UTC)

func TestNeverASecondVacuumWhileAnotherDpcopsHoldsTheLock(t *testing.T) {
	g := newRig(t, vacuumJob, withClock(newFakeClock(t0)))
	g.table("bloated", 2000, 2)
	g.exec(`SELECT pg_advisory_lock($1)`, int64(vacuumLockKey))
	runs, err := g.r.Run(g.ctx, "weekly-vacuum", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Outcome != OutcomeSkipped || !strings.Contains(runs[0].Error, "another VACUUM is running") {
		t.Fatalf("runs %+v", runs)
	}
	if g.stat("bloated", "vacuum_count") != 0 {
		t.Error("vacuumed while another dpcops held the lock")
	}
	g.exec(`SELECT pg_advisory_unlock($1)`, int64(vacuumLockKey))
	if runs, _ := g.r.Run(g.ctx, "weekly-vacuum", false); len(runs) != 1 || runs[0].Outcome != OutcomeSucceeded {
		t.Fatalf("after the lock was released: %+v", runs)
	}
}

func TestNeverASecondVacuumWhileAnotherSessionVacuums(t *testing.T) {
	g := newRig(t, vacuumJob, withClock(newFakeClock(t0)))
	g.table("bloated", 2000, 2)
	g.table("other", 5000, 2)
	other, err := pgx.Connect(g.ctx, g.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := other.Exec(g.ctx, `SET vacuum_cost_delay = 100; SET vacuum_cost_limit = 1`)
		if err == nil {
			_, err = other.Exec(g.ctx, `VACUUM other`)
		}
		done <- err
	}()
	g.waitFor("the other session's VACUUM", `SELECT count(*) > 0 FROM pg_stat_progress_vacuum p JOIN pg_class c ON c.oid = p.relid WHERE c.relname = 'other'`)
	runs, err := g.r.PlanJob(g.ctx, "weekly-vacuum")
	if err != nil || len(runs) != 2 {
		t.Fatalf("plan %+v %v", runs, err)
	}
	recorded, err := g.r.Run(g.ctx, "weekly-vacuum", false)
	if err != nil || len(recorded) != 2 {
		t.Fatalf("recorded %+v %v, want both tables skipped", recorded, err)
	}
	for _, r := range recorded {
		if r.Outcome != OutcomeSkipped || !strings.Contains(r.Error, "another VACUUM is running") {
			t.Errorf("%s: %s %s", r.Target, r.Outcome, r.Error)
		}
	}
	g.exec(`SELECT pg_cancel_backend(pid) FROM pg_stat_progress_vacuum`)
	if err := <-done; err == nil {
		t.Error("the other VACUUM was not cancelled")
	}
}

func TestTwoRunnersNeverVacuumAtOnce(t *testing.T) {
	g := newRig(t, vacuumJob, func(o *Options) { o.VacuumWait = time.Minute })
	g.table("a", 3000, 2)
	g.table("b", 3000, 2)
	g.slowVacuums(5)
	second, err := NewRunner(Options{Spec: g.s, Store: g.st, Poll: 20 * time.Millisecond, VacuumWait: time.Minute, PipelineWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	var wg sync.WaitGroup
	for _, r := range []*Runner{g.r, second} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.Run(g.ctx, "weekly-vacuum", false); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var vacs []Run
	for _, r := range g.runs() {
		if r.Outcome == OutcomeSucceeded {
			vacs = append(vacs, r)
		}
	}
	if len(vacs) < 2 {
		t.Fatalf("succeeded runs %+v", vacs)
	}
	for i := range vacs {
		for j := range vacs {
			a, b := vacs[i], vacs[j]
			if i != j && a.StartedAt.Before(*b.FinishedAt) && b.StartedAt.Before(*a.FinishedAt) {
				t.Errorf("VACUUMs overlap: %s %v–%v and %s %v–%v", a.Target, a.StartedAt, *a.FinishedAt, b.Target, b.StartedAt, *b.FinishedAt)
			}
		}
	}
}

func TestTableDroppedBetweenPlanAndRun(t *testing.T) {
	g := newRig(t, vacuumJob, withClock(newFakeClock(t0)))
	g.table("doomed", 2000, 2)
	items, err := g.r.PlanJob(g.ctx, "weekly-vacuum")
	if err != nil || len(items) != 1 {
		t.Fatalf("plan %+v %v", items, err)
	}
	g.exec(`DROP TABLE doomed`)
	j, _ := g.s.Job("weekly-vacuum")
	x := &jobRun{r: g.r, j: j, trigger: "test"}
	x.item(g.ctx, items[0])
	if len(x.runs) != 1 || x.runs[0].Outcome != OutcomeSkipped || !strings.Contains(x.runs[0].Error, "table no longer exists") {
		t.Fatalf("runs %+v", x.runs)
	}
	if rec := g.runs(); len(rec) != 1 || rec[0].Outcome != OutcomeSkipped {
		t.Fatalf("recorded %+v", rec)
	}
}

func TestLockNotGrantedWithinTheTimeout(t *testing.T) {
	for _, tc := range []struct {
		name, job, lock string
	}{
		{"VACUUM behind a session holding SHARE UPDATE EXCLUSIVE", vacuumJob, `LOCK TABLE bloated IN SHARE UPDATE EXCLUSIVE MODE`},
		{"VACUUM behind an exclusive lock", vacuumJob, `LOCK TABLE bloated IN ACCESS EXCLUSIVE MODE`},
		{"VACUUM FULL behind a long read", `  - name: weekly-vacuum
    action: vacuum_full
    allow_exclusive_lock: true
    schedule: "0 4 * * SUN"
`, `SELECT count(*) FROM bloated`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newRig(t, tc.job, withClock(newFakeClock(t0)))
			g.table("bloated", 2000, 2)
			tx, err := g.db.Begin(g.ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(g.ctx)
			if _, err := tx.Exec(g.ctx, tc.lock); err != nil {
				t.Fatal(err)
			}
			runs, err := g.r.Run(g.ctx, "weekly-vacuum", false)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != 1 || runs[0].Outcome != OutcomeSkipped || !strings.Contains(runs[0].Error, "lock not granted within 200ms") {
				t.Fatalf("runs %+v", runs)
			}
		})
	}
}

func TestVacuumCancelled(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		cancel     func(g *rig, stop context.CancelFunc)
	}{
		{"by an operator", "cancelled: canceling statement due to user request", func(g *rig, _ context.CancelFunc) {
			g.exec(`SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'VACUUM%'`, ApplicationName)
		}},
		{"by dpcops shutting down", "dpcops stopped the run", func(_ *rig, stop context.CancelFunc) { stop() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newRig(t, vacuumJob)
			g.table("bloated", 20000, 2)
			g.slowVacuums(100)
			ctx, stop := context.WithCancel(g.ctx)
			defer stop()
			type result struct {
				runs []Run
				err  error
			}
			done := make(chan result, 1)
			go func() {
				runs, err := g.r.Run(ctx, "weekly-vacuum", false)
				done <- result{runs, err}
			}()
			g.waitFor("dpcops' VACUUM", `SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'VACUUM%' AND state = 'active'`, ApplicationName)
			var pid int32
			if err := g.db.QueryRow(g.ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'VACUUM%' AND state = 'active'`, ApplicationName).Scan(&pid); err != nil {
				t.Fatal(err)
			}
			tc.cancel(g, stop)
			res := <-done
			if len(res.runs) != 1 || res.runs[0].Outcome != OutcomeCancelled || !strings.Contains(res.runs[0].Error, tc.want) {
				t.Fatalf("runs %+v err %v", res.runs, res.err)
			}
			rec := g.runs()
			if len(rec) != 1 || rec[0].Outcome != OutcomeCancelled || rec[0].FinishedAt == nil {
				t.Fatalf("recorded %+v", rec)
			}
			// The VACUUM stopped on the server before Run returned, and the
			// session that ran it (and held the lock) is still dpcops' own
			// and idle, not left to die in the background with the lock.
			var state string
			if err := g.db.QueryRow(g.ctx, `SELECT coalesce(state, '') FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&state); err != nil || state != "idle" {
				t.Fatalf("dpcops' maintenance session after the cancelled run: state %q, %v; want it idle", state, err)
			}
			// The VACUUM lock is free again: another dpcops can take it.
			var free bool
			if err := g.db.QueryRow(g.ctx, `SELECT pg_try_advisory_lock($1)`, int64(vacuumLockKey)).Scan(&free); err != nil || !free {
				t.Fatalf("the VACUUM lock is still held after the cancelled run: %v %v", free, err)
			}
			g.exec(`SELECT pg_advisory_unlock($1)`, int64(vacuumLockKey))
			g.exec(`SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, ApplicationName)
		})
	}
}

func TestDryRunRunsAndRecordsNothing(t *testing.T) {
	g := newRig(t, vacuumJob)
	g.table("bloated", 2000, 2)
	runs, err := g.r.Run(g.ctx, "", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Outcome != OutcomePlanned || runs[0].Statement != `VACUUM "public"."bloated"` {
		t.Fatalf("dry run %+v", runs)
	}
	if g.stat("bloated", "vacuum_count") != 0 || len(g.runs()) != 0 {
		t.Error("a dry run ran or recorded something")
	}
}

func TestCompressionOnPostgresSaysItHasNoEquivalent(t *testing.T) {
	g := newRig(t, `  - name: monthly-analyze-compression
    action: analyze_compression
    schedule: "0 5 1 * *"
`)
	g.table("t", 100, 0)
	items, err := g.r.Plan(g.ctx)
	if err != nil || len(items) != 1 || items[0].Reason != NoCompressionOnPostgres || !items[0].Advice() {
		t.Fatalf("plan %+v %v", items, err)
	}
	runs, err := g.r.Run(g.ctx, "monthly-analyze-compression", false)
	if err != nil || len(runs) != 1 || runs[0].Outcome != OutcomeSkipped || runs[0].Reason != NoCompressionOnPostgres {
		t.Fatalf("runs %+v %v", runs, err)
	}
}

func TestVacuumFullWithTheExclusiveLock(t *testing.T) {
	g := newRig(t, `  - name: vacuum-full-unused-space
    action: vacuum_full
    mode: manual
    allow_exclusive_lock: true
    when: {metric: unused_percent, comparison: GreaterThanOrEqualToThreshold, threshold: 20}
`)
	g.table("bloated", 20000, 2)
	if runs, _ := g.r.Run(g.ctx, "", false); len(runs) != 0 {
		t.Fatalf("a manual job ran without being named: %+v", runs)
	}
	runs, err := g.r.Run(g.ctx, "vacuum-full-unused-space", false)
	if err != nil || len(runs) != 1 || runs[0].Statement != `VACUUM FULL "public"."bloated"` || runs[0].Outcome != OutcomeSucceeded {
		t.Fatalf("runs %+v %v", runs, err)
	}
	if runs[0].After["size_mb"] >= runs[0].Before["size_mb"] {
		t.Errorf("VACUUM FULL did not shrink the table: %v → %v MB", runs[0].Before["size_mb"], runs[0].After["size_mb"])
	}
}

func TestRunUnknownOrDisabledJob(t *testing.T) {
	g := newRig(t, vacuumJob+`  - name: off
    action: vacuum
    enabled: false
    schedule: "0 4 * * SUN"
`)
	if _, err := g.r.Run(g.ctx, "nope", false); err == nil || !strings.Contains(err.Error(), `no maintenance job named "nope"`) {
		t.Errorf("unknown job: %v", err)
	}
	if _, err := g.r.Run(g.ctx, "off", false); err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("disabled job: %v", err)
	}
}

func TestClassify(t *testing.T) {
	bg := context.Background()
	cancelled, cancel := context.WithCancel(bg)
	cancel()
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		err     error
		outcome string
		text    string
	}{
		{"ok", bg, nil, OutcomeSucceeded, ""},
		{"dropped", bg, qerr("42P01", `relation "public.t" does not exist`), OutcomeSkipped, "table no longer exists"},
		{"lock", bg, qerr("55P03", "canceling statement due to lock timeout"), OutcomeSkipped, "lock not granted within 1m0s"},
		{"timeout", bg, qerr("57014", "canceling statement due to statement timeout"), OutcomeCancelled, "statement timeout (2h0m0s) reached"},
		{"operator", bg, qerr("57014", "canceling statement due to user request"), OutcomeCancelled, "cancelled: canceling statement due to user request"},
		{"shutdown", cancelled, errors.New("conn closed"), OutcomeCancelled, "dpcops stopped the run"},
		{"other", bg, qerr("42501", "permission denied"), OutcomeFailed, "permission denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, text := classify(tc.ctx, tc.err, 2*time.Hour, time.Minute)
			if o != tc.outcome || !strings.Contains(text, tc.text) {
				t.Errorf("%s %q, want %s %q", o, text, tc.outcome, tc.text)
			}
		})
	}
}
