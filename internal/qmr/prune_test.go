package qmr

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

// TestPrune: old actions go in transactions of at most store.PruneBatch;
// one still being taken, a recent one and the newest stay.
func TestPrune(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	old, recent := store.Millis(now.Add(-100*24*time.Hour)), store.Millis(now.Add(-time.Hour))
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		n := 0
		add := func(outcome string, at int64) error {
			n++
			_, err := tx.Exec(`INSERT INTO qmr_actions (rule, query_key, action, outcome, at, query_id, pid, metric, value_s, threshold_s)
				VALUES ('long', ?, 'notify', ?, ?, 1, 1, 'execution_time', 700, 600)`, fmt.Sprint(n), outcome, at)
			return err
		}
		for i := range 1200 {
			outcome := []string{OutcomeLogged, OutcomeNotified, OutcomeCancelled, OutcomeGone, OutcomeFailed}[i%5]
			if err := add(outcome, old+int64(i)); err != nil {
				return err
			}
		}
		for _, r := range []struct {
			outcome string
			at      int64
		}{{OutcomeActing, old}, {OutcomeNotified, recent}, {OutcomeLogged, old}} {
			if err := add(r.outcome, r.at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Prune(ctx, st, now.Add(-90*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if p.Rows != 1200 || p.Batches != 3 {
		t.Errorf("pruned %+v, want 1 200 rows in 3 transactions", p)
	}
	var left []string
	rows, err := st.Reader().QueryContext(ctx, `SELECT outcome FROM qmr_actions ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var o string
		rows.Scan(&o)
		left = append(left, o)
	}
	rows.Close()
	if fmt.Sprint(left) != "[acting notified logged]" {
		t.Errorf("left %v, want the acting, the recent and the newest action", left)
	}
}
