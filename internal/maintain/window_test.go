package maintain

import (
	"database/sql"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/store"
)

// windowAlarms gives the test spec alarms for windows to hold back.
const windowAlarms = `metrics: [{name: M, source: sql, sql: "select 1"}]
alarms:
  - {name: Alert-Storage-High, metric: M, comparison: GreaterThanThreshold, threshold: 90, period: 1h, topics: [t]}
  - {name: Alert-RPU-Spike, metric: M, comparison: GreaterThanThreshold, threshold: 28, period: 1m, evaluation_periods: 5, topics: [t]}
  - {name: Alert-ELT-Delay, metric: M, comparison: GreaterThanThreshold, threshold: 90, topics: [t]}
topics: {t: {subscriptions: [inbox]}}
channels: {inbox: {type: inbox}}
`

// TestRecurringWindowOpensOncePerFiring: a window opens at its cron's
// firing in its zone, as silences of the alarms its globs select, once
// however often the scheduler looks, and again at the next firing.
func TestRecurringWindowOpensOncePerFiring(t *testing.T) {
	g := newSchedRig(t, `  - {name: weekly-vacuum, action: vacuum, schedule: "0 4 * * SUN"}
`+windowAlarms+`maintenance_windows:
  - {name: sunday, schedule: "0 3 * * SUN", duration: 2h, alarms: ["Alert-*-High", Alert-RPU-Spike], comment: weekly maintenance}
`, utc("2026-11-28T17:00:00Z")) // Saturday 02:00 JST
	ws, err := NewWindows(g.s.o.Spec, g.st, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	at := func(when string) {
		t.Helper()
		g.clock.Set(utc(when))
		if err := ws.Open(g.ctx, g.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	windows := func() []notify.Silence {
		t.Helper()
		ss, err := notify.Silences(g.ctx, g.st.Reader(), g.clock.Now(), false)
		if err != nil {
			t.Fatal(err)
		}
		return ss
	}
	at("2026-11-28T17:30:00Z") // before it opens
	if n := len(windows()); n != 0 {
		t.Fatalf("%d silences before the window opens", n)
	}
	at("2026-11-28T18:05:00Z") // Sunday 03:05 JST
	ss := windows()
	if len(ss) != 2 {
		t.Fatalf("silences %+v, want one for each of the 2 alarms", ss)
	}
	for _, s := range ss {
		if !s.Starts.Equal(utc("2026-11-28T18:00:00Z")) || !s.Ends.Equal(utc("2026-11-28T20:00:00Z")) || s.Comment != "weekly maintenance" || s.CreatedBy != "window:sunday" {
			t.Errorf("silence %+v", s)
		}
	}
	at("2026-11-28T18:30:00Z")
	at("2026-11-28T19:59:00Z")
	if n := len(windows()); n != 2 {
		t.Fatalf("%d silences after looking again, want the same 2", n)
	}
	at("2026-12-05T18:01:00Z") // the next Sunday
	if n := len(windows()); n != 4 {
		t.Fatalf("%d silences after the next firing, want 4", n)
	}
}

// TestJobOpensItsOwnWindow: a job with a silence list holds its alarms
// back while it runs, and until they have evaluated the time after it.
func TestJobOpensItsOwnWindow(t *testing.T) {
	g := newRig(t, `  - name: vacuum-full-unused-space
    action: vacuum_full
    mode: manual
    allow_exclusive_lock: true
    silence: [Alert-Storage-High, Alert-RPU-Spike]
    when: {metric: unused_percent, comparison: GreaterThanOrEqualToThreshold, threshold: 20}
`+windowAlarms)
	g.table("bloated", 5000, 2)
	start := time.Now()
	runs, err := g.r.Run(g.ctx, "vacuum-full-unused-space", false)
	if err != nil || len(runs) != 1 || runs[0].Outcome != OutcomeSucceeded {
		t.Fatalf("runs %+v %v", runs, err)
	}
	ss, err := notify.Silences(g.ctx, g.st.Reader(), time.Now(), true)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]notify.Silence{}
	for _, s := range ss {
		got[s.Matchers[0].Value] = s
	}
	if len(got) != 2 {
		t.Fatalf("silences %+v, want Storage-High's and RPU-Spike's", ss)
	}
	// The aftermath is the longest period × evaluation periods: Storage-High's hour.
	for name, s := range got {
		if s.CreatedBy != "job:vacuum-full-unused-space" || s.Starts.Before(start.Add(-time.Second)) ||
			s.Ends.Before(time.Now().Add(59*time.Minute)) || s.Ends.After(time.Now().Add(61*time.Minute)) {
			t.Errorf("%s: silence %+v", name, s)
		}
	}
}

// TestJobWindowLeftOpenByAStoppedDpcopsEnds: the window of a job that was
// running when its dpcops stopped ends when the next scheduler starts,
// not hours later.
func TestJobWindowLeftOpenByAStoppedDpcopsEnds(t *testing.T) {
	g := newSchedRig(t, `  - {name: vacuum-full, action: vacuum_full, schedule: "0 4 * * SUN", silence: [Alert-Storage-High]}
`+windowAlarms, utc("2026-11-29T19:30:00Z"))
	start := utc("2026-11-29T19:00:00Z")
	if _, err := notify.OpenWindow(g.ctx, g.st, "job:vacuum-full", start, start.Add(9*time.Hour), []string{"Alert-Storage-High"}, "x"); err != nil {
		t.Fatal(err)
	}
	g.s.closeStale(g.ctx)
	ss, err := notify.Silences(g.ctx, g.st.Reader(), g.clock.Now(), true)
	if err != nil {
		t.Fatal(err)
	}
	// Until Storage-High has evaluated an hour (its period) after now.
	if len(ss) != 1 || !ss[0].End().Equal(g.clock.Now().Add(time.Hour)) {
		t.Errorf("the stopped job's window: %+v, want it to end an hour from now, not in 8h30m", ss)
	}
}

// TestVacuumFullWindowHoldsStorageHigh: end to end on a real PostgreSQL
// warehouse, a VACUUM FULL job with a silence list runs, and a
// Storage-High transition in its aftermath is recorded, held back as
// "silenced by" its window, not sent.
func TestVacuumFullWindowHoldsStorageHigh(t *testing.T) {
	g := newRig(t, `  - name: vacuum-full-unused-space
    action: vacuum_full
    mode: manual
    allow_exclusive_lock: true
    silence: [Alert-Storage-High]
    when: {metric: unused_percent, comparison: GreaterThanOrEqualToThreshold, threshold: 20}
`+windowAlarms)
	g.table("bloated", 5000, 2)
	if runs, err := g.r.Run(g.ctx, "vacuum-full-unused-space", false); err != nil || len(runs) != 1 || runs[0].Outcome != OutcomeSucceeded {
		t.Fatalf("runs %+v %v", runs, err)
	}
	outbox := notify.NewOutbox(notify.OutboxOptions{Spec: g.s, Store: g.st})
	now := time.Now().UTC()
	err := g.st.WriteTx(g.ctx, func(tx *sql.Tx) error {
		tr := alarm.Transition{Alarm: "Alert-Storage-High", Time: now, From: alarm.OK, To: alarm.Alarm, Episode: 1, Reason: "Threshold Crossed: test.", ReasonData: json.RawMessage(`{}`)}
		if err := tx.QueryRowContext(g.ctx, `INSERT INTO alarm_history (alarm, at, from_state, to_state, reason, reason_data, episode)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, tr.Alarm, store.Millis(now), tr.From, tr.To, tr.Reason, "{}", 1).Scan(&tr.ID); err != nil {
			return err
		}
		return outbox.OnTransition(g.ctx, tx, tr)
	})
	if err != nil {
		t.Fatal(err)
	}
	sent, err := notify.List(g.ctx, g.st.Reader(), notify.Query{State: "pending"})
	if err != nil || len(sent) != 0 {
		t.Errorf("deliveries owed in the job's window: %+v %v", sent, err)
	}
	held, err := notify.List(g.ctx, g.st.Reader(), notify.Query{State: "silenced"})
	if err != nil || len(held) == 0 || !strings.HasPrefix(held[0].LastError, "silenced by #") {
		t.Errorf("held %+v %v", held, err)
	}
}
