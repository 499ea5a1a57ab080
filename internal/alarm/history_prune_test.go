package alarm_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

// TestPruneHistory: old transitions go in transactions of at most
// store.PruneBatch rows; each alarm's latest transition, one a delivery
// refers to and one an incident holds stay, and every foreign key holds.
func TestPruneHistory(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	old := now.Add(-100 * 24 * time.Hour)
	recent := now.Add(-time.Hour)
	held := old.Add(time.Hour)
	var referenced int64
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		add := func(name string, at time.Time) (id int64) {
			err := tx.QueryRowContext(ctx, `INSERT INTO alarm_history (alarm, at, from_state, to_state, reason, episode)
				VALUES (?, ?, 'OK', 'ALARM', 'r', 1) RETURNING id`, name, store.Millis(at)).Scan(&id)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		for i := range 1200 {
			add("A", old.Add(time.Duration(i)*time.Second))
		}
		add("B", old) // B's latest: the entry into its current state
		referenced = add("C", old)
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (channel, kind, alarm, transition_id, dedup_key, payload, state, next_attempt_at, created_at)
			VALUES ('webhook', 'trigger', 'C', ?, 'C/1', '{}', 'sent', 0, 0)`, referenced); err != nil {
			t.Fatal(err)
		}
		add("C", old.Add(time.Minute))
		add("D", held)
		add("A", recent)
		add("D", recent)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	keep := func(name string, at time.Time) bool { return name == "D" && at.Equal(held) }
	p, err := alarm.PruneHistory(ctx, st, now.Add(-90*24*time.Hour), keep)
	if err != nil {
		t.Fatal(err)
	}
	// 1 201 candidates (D's held transition is looked at, then spared).
	if p.Rows != 1200 || p.Batches != 3 {
		t.Errorf("pruned %+v, want 1 200 rows in 3 transactions", p)
	}
	left := map[string]int{}
	rows, err := st.Reader().QueryContext(ctx, `SELECT alarm, count(*) FROM alarm_history GROUP BY alarm`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		var n int
		rows.Scan(&name, &n)
		left[name] = n
	}
	rows.Close()
	if left["A"] != 1 || left["B"] != 1 || left["C"] != 2 || left["D"] != 2 {
		t.Errorf("left per alarm %v, want A 1 (its latest), B 1, C 2 (one referenced), D 2 (one held)", left)
	}
	storetest.ForeignKeysHold(t, st)
}
