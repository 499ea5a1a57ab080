package maintain

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

// TestPruneRuns: old finished runs go with their compression reports, in
// transactions of at most store.PruneBatch runs; a running run, a recent
// one, the latest compression report of a table, one an incident holds
// and the newest stay, and every foreign key holds.
func TestPruneRuns(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	old := now.Add(-100 * 24 * time.Hour)
	held := old.Add(-time.Hour)
	kept := map[string]int64{}
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		add := func(name, outcome string, started time.Time, finished any, report ...string) {
			var id int64
			err := tx.QueryRowContext(ctx, `INSERT INTO maintenance_runs (job, action, target, started_at, finished_at, outcome)
				VALUES ('weekly', 'VACUUM', 't', ?, ?, ?) RETURNING id`, store.Millis(started), finished, outcome).Scan(&id)
			if err != nil {
				t.Fatal(err)
			}
			for _, col := range report {
				if _, err := tx.ExecContext(ctx, `INSERT INTO maintenance_compression (run_id, table_name, column_name, encoding, est_reduction_pct)
					VALUES (?, 'mart.stays', ?, 'az64', 12.5)`, id, col); err != nil {
					t.Fatal(err)
				}
			}
			if name != "" {
				kept[name] = id
			}
		}
		for i := range 1199 {
			at := old.Add(time.Duration(i) * time.Second)
			add("", OutcomeSucceeded, at, store.Millis(at))
		}
		add("", OutcomeSucceeded, old, store.Millis(old), "a", "b") // a report a later one replaced
		add("latest report", OutcomeSucceeded, old.Add(time.Hour), store.Millis(old.Add(time.Hour)), "a")
		add("running", OutcomeRunning, old, nil)
		add("recent", OutcomeFailed, now.Add(-time.Hour), store.Millis(now))
		add("held by an incident", OutcomeSkipped, held, store.Millis(held))
		add("newest", OutcomeMissed, old, store.Millis(old))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := PruneRuns(ctx, st, now.Add(-90*24*time.Hour), func(at time.Time) bool { return at.Equal(held) })
	if err != nil {
		t.Fatal(err)
	}
	// 1 200 runs and the replaced report's 2 rows; 1 201 candidates.
	if p.Rows != 1202 || p.Batches != 3 {
		t.Errorf("pruned %+v, want 1 202 rows in 3 transactions", p)
	}
	runs, err := ReadRuns(ctx, st, 1000)
	if err != nil {
		t.Fatal(err)
	}
	left := map[int64]bool{}
	for _, r := range runs {
		left[r.ID] = true
	}
	for name, id := range kept {
		if !left[id] {
			t.Errorf("the %s run was pruned", name)
		}
	}
	if len(runs) != len(kept) {
		t.Errorf("%d runs left, want the %d kept ones", len(runs), len(kept))
	}
	report, err := ReadCompression(ctx, st)
	if err != nil || len(report) != 1 || report[0].RunID != kept["latest report"] {
		t.Errorf("compression report after the prune: %+v, %v", report, err)
	}
	storetest.ForeignKeysHold(t, st)
}
