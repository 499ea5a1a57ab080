package maintain

import (
	"strings"
	"testing"
	"time"
)

const vacuumJob = `  - name: weekly-vacuum
    action: vacuum
    schedule: "0 4 * * SUN"
`

const analyzeJob = `  - name: analyze-after-pipeline
    action: analyze
    after: pipeline_success
`

func TestOnlyTheBloatedTableIsVacuumed(t *testing.T) {
	g := newRig(t, vacuumJob)
	g.table("bloated", 10000, 2) // half the rows dead
	g.table("clean", 10000, 0)
	items, err := g.r.PlanJob(g.ctx, "weekly-vacuum")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Table != "public.bloated" || items[0].Statement != `VACUUM "public"."bloated"` {
		t.Fatalf("plan %+v", items)
	}
	runs, err := g.r.Run(g.ctx, "weekly-vacuum", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Outcome != OutcomeSucceeded {
		t.Fatalf("runs %+v", runs)
	}
	if g.stat("bloated", "vacuum_count") != 1 || g.stat("clean", "vacuum_count") != 0 {
		t.Errorf("vacuum counts: bloated %d, clean %d; want 1 and 0", g.stat("bloated", "vacuum_count"), g.stat("clean", "vacuum_count"))
	}
	rec := g.runs()
	if len(rec) != 1 {
		t.Fatalf("recorded %+v", rec)
	}
	r := rec[0]
	if r.Job != "weekly-vacuum" || r.Target != "public.bloated" || r.Trigger != TriggerManual || r.FinishedAt == nil ||
		r.Before["dead_rows"] != 5000 || r.Before["live_rows"] != 5000 || r.Before["dead_percent"] != 50 || r.After["dead_rows"] != 0 || r.After["vacuums"] != 1 {
		t.Errorf("recorded run %+v", r)
	}
	if !strings.Contains(r.Reason, "dead rows 50 %") {
		t.Errorf("reason %q", r.Reason)
	}
	// Once vacuumed, nothing needs it.
	if items, _ := g.r.PlanJob(g.ctx, "weekly-vacuum"); len(items) != 0 {
		t.Errorf("plan after the vacuum: %+v", items)
	}
}

func TestAnalyzeFollowsALargeLoad(t *testing.T) {
	g := newRig(t, analyzeJob)
	g.table("ef_lines", 1000, 0)
	g.table("form1", 1000, 0)
	if items, _ := g.r.PlanJob(g.ctx, "analyze-after-pipeline"); len(items) != 0 {
		t.Fatalf("freshly analyzed tables need nothing: %+v", items)
	}
	g.exec(`INSERT INTO ef_lines SELECT i, 'y' FROM generate_series(1001, 50000) i`)
	g.flush()
	runs, err := g.r.Run(g.ctx, "analyze-after-pipeline", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Statement != `ANALYZE "public"."ef_lines"` || runs[0].Outcome != OutcomeSucceeded {
		t.Fatalf("runs %+v", runs)
	}
	if !strings.Contains(runs[0].Reason, "49000 rows modified") {
		t.Errorf("reason %q", runs[0].Reason)
	}
	if runs[0].Before["modified_since_analyze"] != 49000 || runs[0].After["modified_since_analyze"] != 0 {
		t.Errorf("before %v after %v", runs[0].Before, runs[0].After)
	}
	if g.stat("form1", "analyze_count") != 1 || g.stat("ef_lines", "analyze_count") != 2 {
		t.Errorf("analyze counts: form1 %d ef_lines %d", g.stat("form1", "analyze_count"), g.stat("ef_lines", "analyze_count"))
	}
}

func TestSchedulerRunsTheAnalyzeAfterAPipelineSuccess(t *testing.T) {
	g := newRig(t, analyzeJob+"    tables: [public.*]\n")
	g.ledger()
	g.table("ef_lines", 1000, 0)
	clock := newFakeClock(time.Now())
	sch, err := NewScheduler(SchedulerOptions{Spec: g.s, Store: g.st, Runner: g.r, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Step(g.ctx); err != nil { // first sight: no success yet
		t.Fatal(err)
	}
	g.exec(`INSERT INTO ops.pipeline_runs (pipeline, started_at, status) VALUES ('dpc-elt', now(), 'running')`)
	g.exec(`INSERT INTO ef_lines SELECT i, 'y' FROM generate_series(1001, 20000) i`)
	g.flush()
	g.exec(`UPDATE ops.pipeline_runs SET status = 'succeeded', finished_at = now()`)
	clock.Set(time.Now().Add(time.Minute))
	if err := sch.Step(g.ctx); err != nil {
		t.Fatal(err)
	}
	runs := g.runs()
	if len(runs) != 1 || runs[0].Statement != `ANALYZE "public"."ef_lines"` || runs[0].Outcome != OutcomeSucceeded ||
		!strings.HasPrefix(runs[0].Trigger, "pipeline_success ") {
		t.Fatalf("runs %+v", runs)
	}
	if err := sch.Step(g.ctx); err != nil || len(g.runs()) != 1 {
		t.Fatalf("the same success ran the job again (%v)", err)
	}
}
