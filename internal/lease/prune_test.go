package lease_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/lease"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

// TestPrune: leases closed before the cutoff go with their events, in
// transactions of at most store.PruneBatch leases; an open lease (however
// old), a recently closed one and the newest stay, and every foreign key
// holds.
func TestPrune(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	old, recent := store.Millis(now.Add(-100*24*time.Hour)), store.Millis(now.Add(-time.Hour))
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		add := func(closed any) error {
			var id int64
			err := tx.QueryRow(`INSERT INTO capacity_leases (pipeline, raised_to, normal, started_at, expires_at, closed_at, asked_by)
				VALUES ('dbt', 32, 8, ?, ?, ?, 'pipeline') RETURNING id`, old, old, closed).Scan(&id)
			if err != nil {
				return err
			}
			for _, ev := range []string{"raised", "lowered"} {
				if _, err := tx.Exec(`INSERT INTO capacity_lease_events (lease_id, at, event) VALUES (?, ?, ?)`, id, old, ev); err != nil {
					return err
				}
			}
			return nil
		}
		for range 1200 {
			if err := add(old); err != nil {
				return err
			}
		}
		for _, closed := range []any{nil, recent, old} { // open, recently closed, newest
			if err := add(closed); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := lease.Prune(ctx, st, now.Add(-90*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if p.Rows != 3600 || p.Batches != 3 {
		t.Errorf("pruned %+v, want 1 200 leases and their 2 400 events in 3 transactions", p)
	}
	ls, err := lease.List(ctx, st, now.Add(-200*24*time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 3 || !ls[0].Open() && !ls[1].Open() && !ls[2].Open() {
		t.Errorf("left %+v, want the open, the recent and the newest lease", ls)
	}
	var events int
	if err := st.Reader().QueryRow(`SELECT count(*) FROM capacity_lease_events`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != 6 {
		t.Errorf("%d events left, want the kept leases' 6", events)
	}
	storetest.ForeignKeysHold(t, st)
}

// TestOneOpenLeaseIsTheDatabasesRule: whatever a writer counted first, the
// store itself refuses a second open lease (a unique index), on either
// database, and closed ones are as many as they come.
func TestOneOpenLeaseIsTheDatabasesRule(t *testing.T) {
	st := storetest.Open(t)
	add := func(closed any) error {
		return st.WriteTx(context.Background(), func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO capacity_leases (pipeline, raised_to, normal, started_at, expires_at, closed_at, asked_by)
				VALUES ('dbt', 32, 8, 1, 2, ?, 'pipeline')`, closed)
			return err
		})
	}
	for _, closed := range []any{3, 4, nil} {
		if err := add(closed); err != nil {
			t.Fatal(err)
		}
	}
	if err := add(nil); !store.UniqueViolation(err) {
		t.Errorf("a second open lease: %v", err)
	}
}
