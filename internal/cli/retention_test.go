package cli

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
)

// TestServePrunesPastRetention: at start-up serve prunes the records past
// store.retention (an old delivery, transition and maintenance run outside
// any incident) and keeps what an incident of 200 days ago reads (within
// the 400 days incidents are kept), so that it still exports whole.
func TestServePrunesPastRetention(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	now := time.Now()
	opened := now.Add(-200 * 24 * time.Hour)
	stale := now.Add(-150 * 24 * time.Hour)
	st, err := store.Open(context.Background(), data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = st.WriteTx(context.Background(), func(tx *sql.Tx) error {
		for _, r := range []struct {
			alarm, from, to string
			at              time.Time
		}{
			{"Alert-ELT-Delay", "OK", "ALARM", opened},
			{"Alert-ELT-Delay", "ALARM", "OK", opened.Add(time.Hour)},
			{"Alert-RPU-Spike", "OK", "ALARM", stale},
			{"Alert-RPU-Spike", "ALARM", "OK", stale.Add(time.Hour)},
		} {
			var id int64
			if err := tx.QueryRow(`INSERT INTO alarm_history (alarm, at, from_state, to_state, reason, episode) VALUES (?, ?, ?, ?, 'r', 1) RETURNING id`,
				r.alarm, store.Millis(r.at), r.from, r.to).Scan(&id); err != nil {
				return err
			}
			if _, err := tx.Exec(`INSERT INTO outbox (channel, kind, alarm, transition_id, dedup_key, payload, state, attempts, next_attempt_at, created_at, sent_at)
				VALUES ('webhook', 'trigger', ?, ?, 'k', '{}', 'sent', 1, 0, ?, ?)`, r.alarm, id, store.Millis(r.at), store.Millis(r.at)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(`INSERT INTO incidents (alarm, episode, title, opened_at, closed_at) VALUES ('Alert-ELT-Delay', 1, 'ELT late', ?, ?)`,
			store.Millis(opened), store.Millis(opened.Add(time.Hour))); err != nil {
			return err
		}
		for _, r := range []struct {
			job string
			at  time.Time
		}{{"during-incident", opened.Add(time.Minute)}, {"stale", stale}, {"recent", now.Add(-time.Hour)}} {
			if _, err := tx.Exec(`INSERT INTO maintenance_runs (job, action, target, started_at, finished_at, outcome) VALUES (?, 'VACUUM', 't', ?, ?, 'failed')`,
				r.job, store.Millis(r.at), store.Millis(r.at.Add(time.Minute))); err != nil {
				return err
			}
		}
		return nil
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	stop := startServe(t, freeAddr(t), data)
	deadline := time.Now().Add(20 * time.Second)
	for pruned(t, data) < 3 {
		if time.Now().After(deadline) {
			stop()
			t.Fatal("serve did not prune the stale delivery, transition and run at start-up")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if r := stop(); r.code != 0 {
		t.Fatalf("serve: %+v", r)
	}
	r := run(t, "", "incidents", "export", "1", "--data", data, "-c", localSpec)
	for _, want := range []string{"OK → ALARM", "ALARM → OK", "webhook trigger: sent", "during-incident VACUUM t: failed"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("the export of the kept incident lacks %q: %+v", want, r)
		}
	}
}

// pruned counts the stale records gone: the stale alarm's first
// transition and delivery (its second transition is its latest and stays,
// with its delivery, which refers to it) and the stale maintenance run.
func pruned(t *testing.T, data string) int {
	t.Helper()
	st, err := store.Open(context.Background(), data, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := 0
	for _, q := range []string{
		`SELECT count(*) = 0 FROM alarm_history WHERE alarm = 'Alert-RPU-Spike' AND to_state = 'ALARM'`,
		`SELECT count(*) = 1 FROM outbox WHERE alarm = 'Alert-RPU-Spike'`,
		`SELECT count(*) = 0 FROM maintenance_runs WHERE job = 'stale'`,
	} {
		var gone bool
		if err := st.Reader().QueryRow(q).Scan(&gone); err != nil {
			t.Fatal(err)
		}
		if gone {
			n++
		}
	}
	return n
}
