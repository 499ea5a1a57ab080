package notify

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

// TestPruneDeliveries: old finished deliveries go in transactions of at
// most store.PruneBatch rows; unfinished, recent, inbox-held, open-episode,
// incident-held and newest ones stay, and every foreign key holds.
func TestPruneDeliveries(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	before := now.Add(-30 * 24 * time.Hour)
	old, recent := store.Millis(now.Add(-40*24*time.Hour)), store.Millis(now.Add(-24*time.Hour))
	heldAt := now.Add(-50 * 24 * time.Hour)
	kept := map[string]int64{}
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		add := func(name, alarm, state, key string, transition any, created, claimed, sent any) {
			var id int64
			err := tx.QueryRowContext(ctx, `INSERT INTO outbox (channel, kind, alarm, transition_id, dedup_key, payload, state,
				next_attempt_at, created_at, claimed_at, sent_at) VALUES ('webhook', 'trigger', ?, ?, ?, '{}', ?, 0, ?, ?, ?) RETURNING id`,
				alarm, transition, key, state, created, claimed, sent).Scan(&id)
			if err != nil {
				t.Fatal(err)
			}
			if name != "" {
				kept[name] = id
			}
		}
		// 1 200 old finished deliveries, one of them owed by a transition
		// no incident holds.
		for i := range 1197 {
			add("", "A", "sent", "A/1", nil, old+int64(i), old+int64(i), old+int64(i))
		}
		add("", "A", "failed", "A/1", nil, old, old, nil)
		add("", "A", "expired", "A/1", nil, old, nil, nil)
		var free, held int64
		tx.QueryRowContext(ctx, `INSERT INTO alarm_history (alarm, at, from_state, to_state, reason, episode)
			VALUES ('D', ?, 'OK', 'ALARM', 'r', 1) RETURNING id`, old).Scan(&free)
		tx.QueryRowContext(ctx, `INSERT INTO alarm_history (alarm, at, from_state, to_state, reason, episode)
			VALUES ('C', ?, 'OK', 'ALARM', 'r', 1) RETURNING id`, store.Millis(heldAt)).Scan(&held)
		add("", "D", "sent", "D/1", free, old, old, old)

		add("pending", "A", "pending", "A/1", nil, old, nil, nil)
		add("sending", "A", "sending", "A/1", nil, old, old, nil)
		add("recent", "A", "sent", "A/1", nil, recent, recent, recent)
		add("retried lately", "A", "failed", "A/1", nil, old, recent, nil)
		add("in the inbox", "A", "sent", "A/1", nil, old, old, old)
		if _, err := tx.ExecContext(ctx, `INSERT INTO inbox (outbox_id, channel, kind, title, text, message, at, received_at)
			VALUES (?, 'inbox', 'trigger', 't', 't', '{}', ?, ?)`, kept["in the inbox"], old, recent); err != nil {
			t.Fatal(err)
		}
		add("open episode", "B", "sent", "B/3", nil, old, old, old)
		if _, err := tx.ExecContext(ctx, `INSERT INTO notify_open (alarm, channel, dedup_key, opened_at) VALUES ('B', 'webhook', 'B/3', ?)`, old); err != nil {
			t.Fatal(err)
		}
		add("held by an incident", "C", "sent", "C/1", held, old, old, old)
		add("newest", "A", "sent", "A/1", nil, old, old, old)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	keep := func(alarm string, at time.Time) bool { return alarm == "C" && at.Equal(heldAt) }
	p, err := Prune(ctx, st, before, keep)
	if err != nil {
		t.Fatal(err)
	}
	// 1 201 candidates (the held one is looked at, then spared): three
	// transactions.
	if p.Rows != 1200 || p.Batches != 3 {
		t.Errorf("pruned %+v, want 1 200 rows in 3 transactions", p)
	}
	rows, err := st.Reader().QueryContext(ctx, `SELECT id FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var left []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		left = append(left, id)
	}
	rows.Close()
	for name, id := range kept {
		if !slices.Contains(left, id) {
			t.Errorf("the %s delivery was pruned", name)
		}
	}
	if len(left) != len(kept) {
		t.Errorf("%d deliveries left, want the %d kept ones", len(left), len(kept))
	}
	storetest.ForeignKeysHold(t, st)
	// Nothing is left to prune: a second pass deletes nothing.
	if p, err := Prune(ctx, st, before, keep); err != nil || p.Rows != 0 || p.Batches != 1 {
		t.Errorf("second pass: %+v, %v", p, err)
	}
}

// BenchmarkPruneDeliveries prunes 100 000 old deliveries, each owed by a
// transition, beside 10 000 recent ones: the figure bench/RESULTS.md
// records (rows/s, and the mean transaction, which is how long the
// engines' writes can wait behind a prune).
func BenchmarkPruneDeliveries(b *testing.B) {
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	old, recent := store.Millis(now.Add(-40*24*time.Hour)), store.Millis(now.Add(-time.Hour))
	var rows int64
	var batches int
	for b.Loop() {
		b.StopTimer()
		st, err := store.Open(ctx, b.TempDir(), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		err = st.WriteTx(ctx, func(tx *sql.Tx) error {
			for i := range 110000 {
				at := old
				if i >= 100000 {
					at = recent
				}
				var id int64
				if err := tx.QueryRow(`INSERT INTO alarm_history (alarm, at, from_state, to_state, reason, episode)
					VALUES ('A', ?, 'OK', 'ALARM', 'r', ?) RETURNING id`, at+int64(i), i).Scan(&id); err != nil {
					return err
				}
				if _, err := tx.Exec(`INSERT INTO outbox (channel, kind, alarm, transition_id, dedup_key, payload, state, next_attempt_at, created_at, sent_at)
					VALUES ('webhook', 'trigger', 'A', ?, ?, '{"title":"a message of a typical size, give or take"}', 'sent', 0, ?, ?)`, id, fmt.Sprint("A/", i), at, at); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		p, err := Prune(ctx, st, now.Add(-30*24*time.Hour), func(string, time.Time) bool { return false })
		if err != nil {
			b.Fatal(err)
		}
		rows, batches = rows+p.Rows, batches+p.Batches
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(batches), "ms/transaction")
}
