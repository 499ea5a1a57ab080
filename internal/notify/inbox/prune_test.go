package inbox_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/notify/inbox"
	"github.com/dpc-learning/dpcops/internal/store"
)

// TestPrune: messages received before the cutoff go, read or not, in
// transactions of at most store.PruneBatch; recent ones and the newest
// stay.
func TestPrune(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	old, recent := store.Millis(now.Add(-40*24*time.Hour)), store.Millis(now.Add(-time.Hour))
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		add := func(received int64, read any) error {
			_, err := tx.Exec(`INSERT INTO inbox (channel, kind, title, text, message, at, received_at, read_at)
				VALUES ('inbox', 'trigger', 't', 't', '{}', ?, ?, ?)`, received, received, read)
			return err
		}
		for i := range 1200 {
			var read any
			if i%2 == 0 {
				read = old
			}
			if err := add(old+int64(i), read); err != nil {
				return err
			}
		}
		for range 3 {
			if err := add(recent, nil); err != nil {
				return err
			}
		}
		return add(old, nil) // the newest row, however old
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := inbox.Prune(ctx, st, now.Add(-30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if p.Rows != 1200 || p.Batches != 3 {
		t.Errorf("pruned %+v, want 1 200 rows in 3 transactions", p)
	}
	items, err := inbox.List(ctx, st.Reader(), inbox.Query{Limit: 100})
	if err != nil || len(items) != 4 {
		t.Fatalf("%d messages left (%v), want the 3 recent ones and the newest", len(items), err)
	}
}
