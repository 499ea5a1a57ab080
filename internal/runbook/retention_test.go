package runbook

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/maintain"
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/inbox"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

const day = 24 * time.Hour

// TestPruneIncidents: incidents closed before the cutoff go with their
// events, in transactions of at most store.PruneBatch incidents; an open
// incident (however old), a recently closed one and the newest stay.
func TestPruneIncidents(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	in := NewIncidents(localSpec(t, "postgres://unused/db"), st)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	old, recent := store.Millis(now.Add(-500*day)), store.Millis(now.Add(-day))
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		episode := 0
		add := func(closed any) error {
			episode++
			var id int64
			err := tx.QueryRow(`INSERT INTO incidents (alarm, episode, title, opened_at, closed_at) VALUES ('A', ?, 't', ?, ?) RETURNING id`,
				episode, old, closed).Scan(&id)
			if err == nil {
				_, err = tx.Exec(`INSERT INTO incident_events (incident_id, at, kind, text) VALUES (?, ?, 'note', 'n')`, id, old)
			}
			return err
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
	p, err := in.Prune(ctx, now.Add(-400*day))
	if err != nil {
		t.Fatal(err)
	}
	if p.Rows != 2400 || p.Batches != 3 {
		t.Errorf("pruned %+v, want 1 200 incidents and their 1 200 events in 3 transactions", p)
	}
	list, err := in.List(ctx, 100)
	if err != nil || len(list) != 3 || list[0].Episode != 1203 || !list[1].Open() && !list[2].Open() {
		t.Errorf("left %+v (%v), want the open, the recently closed and the newest incident", list, err)
	}
	storetest.ForeignKeysHold(t, st)
}

// TestOldIncidentExportsWholeAfterPrune: an incident closed 200 days ago
// is kept (store.retention.incidents 400d) although its transitions,
// deliveries and the maintenance run during it are older than
// store.retention.history and notifications: after the prunes, in the
// order serve runs them, its export still shows all of them, while the
// same records outside any incident are gone.
func TestOldIncidentExportsWholeAfterPrune(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	s := localSpec(t, "postgres://unused/db")
	in := NewIncidents(s, st)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	opened := now.Add(-200 * day)
	const name = "Alert-ELT-Delay"
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		transition := func(alarmName string, at time.Time, from, to alarm.State, episode int64, incident bool) {
			tr := alarm.Transition{Alarm: alarmName, Time: at, From: from, To: to, Episode: episode, Reason: "r"}
			err := tx.QueryRow(`INSERT INTO alarm_history (alarm, at, from_state, to_state, reason, episode) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
				alarmName, store.Millis(at), string(from), string(to), tr.Reason, episode).Scan(&tr.ID)
			if err != nil {
				t.Fatal(err)
			}
			kind := map[alarm.State]string{alarm.Alarm: "trigger", alarm.OK: "resolve"}[to]
			if _, err := tx.Exec(`INSERT INTO outbox (channel, kind, alarm, transition_id, dedup_key, payload, state, attempts, next_attempt_at, created_at, claimed_at, sent_at)
				VALUES ('webhook', ?, ?, ?, 'k', '{}', 'sent', 1, 0, ?, ?, ?)`, kind, alarmName, tr.ID, store.Millis(at), store.Millis(at), store.Millis(at)); err != nil {
				t.Fatal(err)
			}
			if incident {
				if err := in.OnTransition(ctx, tx, tr); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Runs that failed: a timeline shows those (not the routine
		// successes).
		run := func(job string, at time.Time) {
			if _, err := tx.Exec(`INSERT INTO maintenance_runs (job, action, target, started_at, finished_at, outcome)
				VALUES (?, 'VACUUM', 'mart.stays', ?, ?, 'failed')`, job, store.Millis(at), store.Millis(at.Add(time.Minute))); err != nil {
				t.Fatal(err)
			}
		}
		// The kept incident, and the same records 150 days ago outside any
		// incident (their alarm has no incident: no OnTransition).
		transition(name, opened, alarm.OK, alarm.Alarm, 1, true)
		run("during-incident", opened.Add(10*time.Minute))
		transition(name, opened.Add(time.Hour), alarm.Alarm, alarm.OK, 1, true)
		transition("Other", now.Add(-150*day), alarm.OK, alarm.Alarm, 1, false)
		transition("Other", now.Add(-150*day+time.Hour), alarm.Alarm, alarm.OK, 1, false)
		run("outside", now.Add(-150*day))
		// Recent records: the newest of each table, kept anyway.
		transition(name, now.Add(-time.Hour), alarm.OK, alarm.Alarm, 2, true)
		transition("Other", now.Add(-time.Hour), alarm.OK, alarm.Alarm, 2, false)
		run("recent", now.Add(-time.Hour))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Note(ctx, 1, opened.Add(20*time.Minute), "vacuumed by hand"); err != nil {
		t.Fatal(err)
	}

	// serve's order (server.prune), with the spec's retention.
	keep := s.Store.Retention
	notified, history := now.Add(-keep.Notifications.D()), now.Add(-keep.History.D())
	if _, err := in.Prune(ctx, now.Add(-keep.Incidents.D())); err != nil {
		t.Fatal(err)
	}
	holds, err := in.Holds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inbox.Prune(ctx, st, notified); err != nil {
		t.Fatal(err)
	}
	if _, err := notify.Prune(ctx, st, notified, holds.Transition); err != nil {
		t.Fatal(err)
	}
	if _, err := alarm.PruneHistory(ctx, st, history, holds.Transition); err != nil {
		t.Fatal(err)
	}
	if _, err := maintain.PruneRuns(ctx, st, history, holds.During); err != nil {
		t.Fatal(err)
	}

	rec, err := Gather(ctx, in, Sources{Spec: s, Store: st, Now: func() time.Time { return now }}, 1)
	if err != nil {
		t.Fatal(err)
	}
	md := rec.Markdown(s, now)
	for _, want := range []string{"OK → ALARM", "ALARM → OK", "webhook trigger: sent", "webhook resolve: sent",
		"during-incident VACUUM mart.stays: failed", "vacuumed by hand"} {
		if !strings.Contains(md, want) {
			t.Errorf("the export of the kept incident lacks %q:\n%s", want, md)
		}
	}
	var transitions, deliveries, runs int
	st.Reader().QueryRow(`SELECT count(*) FROM alarm_history WHERE alarm = 'Other'`).Scan(&transitions)
	st.Reader().QueryRow(`SELECT count(*) FROM outbox WHERE alarm = 'Other'`).Scan(&deliveries)
	st.Reader().QueryRow(`SELECT count(*) FROM maintenance_runs WHERE job = 'outside'`).Scan(&runs)
	if transitions != 1 || deliveries != 1 || runs != 0 {
		t.Errorf("outside any incident: %d transitions, %d deliveries, %d runs left; want only the recent ones", transitions, deliveries, runs)
	}
	storetest.ForeignKeysHold(t, st)
}
