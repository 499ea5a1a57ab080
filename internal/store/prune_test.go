package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestPruneLogsInBatches(t *testing.T) { eachDialect(t, testPruneLogsInBatches) }

func testPruneLogsInBatches(t *testing.T, open func() *Store) {
	s := open()
	ctx := context.Background()
	var logs []LogLine
	for i := range 1200 {
		logs = append(logs, LogLine{Time: t0.Add(time.Duration(i) * time.Second), Source: "postgres", Severity: "ERROR", Message: "old"})
	}
	for i := range 5 {
		logs = append(logs, LogLine{Time: t0.Add(2*time.Hour + time.Duration(i)*time.Second), Source: "postgres", Severity: "ERROR", Message: "new"})
	}
	if err := s.WriteCycle(ctx, CycleWrite{Logs: logs}); err != nil {
		t.Fatal(err)
	}
	p, err := s.PruneLogs(ctx, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// 1 200 old rows: batches of 500, 500 and 200, each its own
	// transaction.
	if p.Rows != 1200 || p.Batches != 3 {
		t.Errorf("pruned %+v, want 1200 rows in 3 transactions", p)
	}
	left, err := s.LatestLogs(ctx, 100)
	if err != nil || len(left) != 5 || left[4].Message != "new" {
		t.Errorf("left %d lines (%v), want the 5 new ones", len(left), err)
	}
}

func TestPruneDatapointsInBatches(t *testing.T) { eachDialect(t, testPruneDatapointsInBatches) }

func testPruneDatapointsInBatches(t *testing.T, open func() *Store) {
	s := open()
	ctx := context.Background()
	// 12 000 old datapoints over three series, and 30 recent ones.
	for i := range 3 {
		if err := s.InsertDatapoints(ctx, batch(fmt.Sprintf("M%d", i), 0, 4000)); err != nil {
			t.Fatal(err)
		}
		if err := s.InsertDatapoints(ctx, batch(fmt.Sprintf("M%d", i), 20000, 10)); err != nil {
			t.Fatal(err)
		}
	}
	p, err := s.PruneDatapoints(ctx, t0.Add(10000*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if p.Rows != 12000 || p.Batches != 3 {
		t.Errorf("pruned %+v, want 12 000 rows in 3 transactions of at most %d", p, datapointBatch)
	}
	if n, _ := s.CountDatapoints(ctx); n != 30 {
		t.Errorf("%d datapoints left, want the 30 recent ones", n)
	}
}

// TestPruneRowsKeepAndNewestRow: candidates that Keep spares stay, the
// prune still moves on past them in bounded batches, and a candidate query
// that spares the newest row leaves it whatever its age.
func TestPruneRowsKeepAndNewestRow(t *testing.T) { eachDialect(t, testPruneRowsKeepAndNewestRow) }

func testPruneRowsKeepAndNewestRow(t *testing.T, open func() *Store) {
	s := open()
	ctx := context.Background()
	var logs []LogLine
	for i := range 1200 {
		logs = append(logs, LogLine{Time: t0.Add(time.Duration(i) * time.Second), Source: "postgres", Severity: "ERROR", Message: "m"})
	}
	if err := s.WriteCycle(ctx, CycleWrite{Logs: logs}); err != nil {
		t.Fatal(err)
	}
	keptFrom := t0.Add(1000 * time.Second)
	p, err := s.PruneRows(ctx, Pruning{
		Table: "log_lines",
		Candidates: `SELECT id, source, ts FROM log_lines WHERE id > ?1 AND ts < ?3
			AND id < (SELECT max(id) FROM log_lines) ORDER BY id LIMIT ?2`,
		Args:    []any{Millis(t0.Add(time.Hour))},
		Keep:    func(source string, at time.Time) bool { return source == "postgres" && !at.Before(keptFrom) },
		Deletes: []string{`DELETE FROM log_lines WHERE id IN (%s)`},
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Rows != 1000 || p.Batches != 3 {
		t.Errorf("pruned %+v, want 1000 rows in 3 transactions", p)
	}
	var n int
	var oldest int64
	s.Reader().QueryRow(`SELECT count(*), min(ts) FROM log_lines`).Scan(&n, &oldest)
	if n != 200 || FromMillis(oldest) != keptFrom {
		t.Errorf("%d rows left from %v, want the 200 kept from %v", n, FromMillis(oldest), keptFrom)
	}
}

func TestPipelineRuns(t *testing.T) { eachDialect(t, testPipelineRuns) }

// testPipelineRuns: a run seen again updates its row; the runs between two
// times are those that overlap them, a run still going included; pruning
// removes the runs that started before the cut.
func testPipelineRuns(t *testing.T, open func() *Store) {
	s := open()
	ctx := context.Background()
	at := func(h float64) time.Time { return t0.Add(time.Duration(h * float64(time.Hour))) }
	ptr := func(t time.Time) *time.Time { return &t }
	write := func(runs ...PipelineRun) {
		t.Helper()
		if err := s.WriteCycle(ctx, CycleWrite{Runs: runs}); err != nil {
			t.Fatal(err)
		}
	}
	write(PipelineRun{Pipeline: "p", ID: "old", Started: at(0), Finished: ptr(at(1)), Status: "succeeded"},
		PipelineRun{Pipeline: "p", ID: "mid", Started: at(4), Status: "running"},
		PipelineRun{Pipeline: "p", ID: "late", Started: at(9), Status: "running"})
	write(PipelineRun{Pipeline: "p", ID: "mid", Started: at(4), Finished: ptr(at(6)), Status: "failed"})
	runs, err := s.PipelineRunsBetween(ctx, at(5), at(10))
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].ID != "mid" || runs[0].Status != "failed" || !runs[0].Finished.Equal(at(6)) || runs[1].ID != "late" || runs[1].Finished != nil {
		t.Fatalf("runs %+v", runs)
	}
	p, err := s.PrunePipelineRuns(ctx, at(5))
	if err != nil || p.Rows != 2 {
		t.Fatalf("pruned %+v %v, want the two that started before", p, err)
	}
	if runs, _ := s.PipelineRunsBetween(ctx, at(0), at(10)); len(runs) != 1 || runs[0].ID != "late" {
		t.Errorf("left %+v", runs)
	}
}
