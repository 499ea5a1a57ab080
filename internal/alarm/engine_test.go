package alarm

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
)

func newEngine(t *testing.T, st *store.Store, rec *recorder, clk Clock) *Engine {
	t.Helper()
	e, err := New(Options{Spec: parseSpec(t, loadSpec), Store: st, Clock: clk, Delay: -1, OnTransition: rec.hook})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func evalAt(t *testing.T, e *Engine, now time.Time) []Transition {
	t.Helper()
	ts, err := e.EvaluateOnce(context.Background(), now)
	if err != nil {
		t.Fatalf("EvaluateOnce(%s): %v", now.Format("15:04:05"), err)
	}
	return ts
}

func stateOf(t *testing.T, e *Engine, alarm string) Status {
	t.Helper()
	states, err := e.States(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if s.Alarm == alarm {
			return s
		}
	}
	t.Fatalf("no state for %s", alarm)
	return Status{}
}

func TestEngineCommitsTransitionWithHookWrites(t *testing.T) {
	st := storetest.Open(t)
	rec := &recorder{}
	e := newEngine(t, st, rec, nil)
	put(t, st, 0, 5, 12, 15)
	if ts := evalAt(t, e, minute(1)); len(ts) != 1 || ts[0].To != OK || ts[0].From != InsufficientData {
		t.Fatalf("at 03:01: %+v", ts)
	}
	evalAt(t, e, minute(2)) // 5, 12: one of two breaching, still OK
	ts := evalAt(t, e, minute(3))
	if len(ts) != 1 || ts[0].To != Alarm || ts[0].Episode != 1 || !ts[0].Time.Equal(minute(3)) {
		t.Fatalf("at 03:03: %+v", ts)
	}
	want := "Threshold Crossed: 2 out of the last 2 datapoints [15.0 (27/11/26 03:02:00), 12.0 (27/11/26 03:01:00)] were greater than the threshold (10.0) (minimum 2 datapoints for OK -> ALARM transition)."
	if ts[0].Reason != want {
		t.Errorf("reason\n got %s\nwant %s", ts[0].Reason, want)
	}
	// The hook saw the transition with its history id, and its outbox row
	// committed with it.
	got := rec.transitions()
	if len(got) != 2 || got[1].ID == 0 || got[1].ID != ts[0].ID || outboxRows(t, st) != 2 {
		t.Fatalf("hook got %+v, outbox %d", got, outboxRows(t, st))
	}
	var tid int64
	st.Reader().QueryRow(`SELECT transition_id FROM outbox ORDER BY id DESC LIMIT 1`).Scan(&tid)
	if tid != ts[0].ID {
		t.Errorf("outbox row refers to transition %d, want %d", tid, ts[0].ID)
	}
	s := stateOf(t, e, "High-Load")
	if s.State != Alarm || s.Episode != 1 || s.Reason != want || !s.ChangedAt.Equal(minute(3)) || !s.EvaluatedAt.Equal(minute(3)) ||
		!strings.Contains(string(s.ReasonData), `"recentDatapoints":[12,15]`) {
		t.Errorf("state %+v", s)
	}
	h, err := e.History(context.Background(), "High-Load", 10)
	if err != nil || len(h) != 2 || h[0].To != Alarm || h[1].To != OK || h[0].ID != ts[0].ID {
		t.Errorf("history %+v, %v", h, err)
	}
}

func TestEngineHookFailureRollsBackAndRetries(t *testing.T) {
	st := storetest.Open(t)
	rec := &recorder{fail: errors.New("outbox full")}
	e := newEngine(t, st, rec, nil)
	put(t, st, 0, 20, 20)
	_, err := e.EvaluateOnce(context.Background(), minute(2))
	if err == nil || !strings.Contains(err.Error(), "outbox full") {
		t.Fatalf("want the hook's error, got %v", err)
	}
	// Nothing of the transition was written: no history, no outbox row, no
	// state change; the error shows in the alarm's health.
	if h, _ := e.History(context.Background(), "", 0); len(h) != 0 || outboxRows(t, st) != 0 {
		t.Fatalf("history %+v, outbox %d after a failed hook", h, outboxRows(t, st))
	}
	if s := stateOf(t, e, "High-Load"); s.State != InsufficientData || !strings.Contains(s.LastError, "outbox full") {
		t.Fatalf("state after failed hook: %+v", s)
	}
	// The next evaluation of the same period tries again and succeeds.
	rec.mu.Lock()
	rec.fail = nil
	rec.mu.Unlock()
	if ts := evalAt(t, e, minute(2).Add(10*time.Second)); len(ts) != 1 || ts[0].To != Alarm || ts[0].Episode != 1 {
		t.Fatalf("retry: %+v", ts)
	}
	if s := stateOf(t, e, "High-Load"); s.State != Alarm || s.LastError != "" || outboxRows(t, st) != 1 {
		t.Fatalf("after retry: %+v, outbox %d", s, outboxRows(t, st))
	}
}

func TestEngineResumesAfterRestartWithoutAnnouncingAgain(t *testing.T) {
	reopen := storetest.Opener(t)
	st := reopen()
	rec := &recorder{}
	e := newEngine(t, st, rec, nil)
	put(t, st, 0, 20, 20, 20, 20)
	if ts := evalAt(t, e, minute(2)); len(ts) != 1 || ts[0].To != Alarm {
		t.Fatalf("%+v", ts)
	}
	st.Close()

	st2 := reopen()
	rec2 := &recorder{}
	e2 := newEngine(t, st2, rec2, nil)
	// The same period again, then the next one: still ALARM, nothing new.
	evalAt(t, e2, minute(2))
	if ts := evalAt(t, e2, minute(3)); len(ts) != 0 || len(rec2.transitions()) != 0 {
		t.Fatalf("a restart announced %+v", ts)
	}
	if s := stateOf(t, e2, "High-Load"); s.State != Alarm || s.Episode != 1 || !s.EvaluatedAt.Equal(minute(3)) {
		t.Fatalf("resumed state %+v", s)
	}
	// When it resolves, the resolution belongs to the same episode.
	put(t, st2, 4, 1)
	if ts := evalAt(t, e2, minute(5)); len(ts) != 1 || ts[0].From != Alarm || ts[0].To != OK || ts[0].Episode != 1 {
		t.Fatalf("resolve after restart: %+v", ts)
	}
}

func TestEngineEpisodes(t *testing.T) {
	st := storetest.Open(t)
	e := newEngine(t, st, &recorder{}, nil)
	// ALARM at 03:02, OK at 03:03, INSUFFICIENT_DATA once 4 periods lack
	// data (03:08), ALARM again at 03:10.
	put(t, st, 0, 20, 20, 1)
	put(t, st, 8, 20, 20)
	var got []string
	for m := 1; m <= 10; m++ {
		for _, tr := range evalAt(t, e, minute(m)) {
			got = append(got, tr.Time.Format("15:04")+" "+string(tr.To)+" "+string(rune('0'+tr.Episode)))
		}
	}
	want := "03:02 ALARM 1|03:03 OK 1|03:07 INSUFFICIENT_DATA 1|03:10 ALARM 2"
	if strings.Join(got, "|") != want {
		t.Fatalf("transitions\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
}

// TestEngineEpisodeGoesOnThroughMissingData: an alarm breaching when its
// data stops (the warehouse gone dark) and again when it comes back is one
// episode, also across a restart in between; one OK in between ends it.
func TestEngineEpisodeGoesOnThroughMissingData(t *testing.T) {
	for _, restart := range []bool{false, true} {
		st := storetest.Open(t)
		e := newEngine(t, st, &recorder{}, nil)
		// ALARM at 03:02; no data from 03:02 to 03:08: INSUFFICIENT_DATA at
		// 03:06; breaching again at 03:09 and 03:10: ALARM at 03:11, the
		// same episode. Then OK at 03:12, and ALARM at 03:15 is a new one.
		put(t, st, 0, 20, 20)
		put(t, st, 9, 20, 20, 1, 1, 20, 20)
		var got []string
		for m := 1; m <= 15; m++ {
			if restart && m == 7 {
				e = newEngine(t, st, &recorder{}, nil)
			}
			for _, tr := range evalAt(t, e, minute(m)) {
				got = append(got, tr.Time.Format("15:04")+" "+string(tr.To)+" "+string(rune('0'+tr.Episode)))
			}
		}
		want := "03:02 ALARM 1|03:06 INSUFFICIENT_DATA 1|03:11 ALARM 1|03:12 OK 1|03:15 ALARM 2"
		if strings.Join(got, "|") != want {
			t.Errorf("restart %v: transitions\n got %s\nwant %s", restart, strings.Join(got, "|"), want)
		}
	}
}

func TestEngineClockJumpingBackwards(t *testing.T) {
	reopen := storetest.Opener(t)
	st := reopen()
	e := newEngine(t, st, &recorder{}, nil)
	put(t, st, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)
	evalAt(t, e, minute(10))
	// New data makes the early periods breach, then the clock goes back an
	// hour and to 03:05: those periods are not evaluated again.
	put(t, st, 3, 20, 20)
	for _, now := range []time.Time{minute(-60), minute(5), minute(10)} {
		if ts := evalAt(t, e, now); len(ts) != 0 {
			t.Fatalf("at %s after the clock went back: %+v", now.Format("15:04"), ts)
		}
	}
	if s := stateOf(t, e, "High-Load"); !s.EvaluatedAt.Equal(minute(10)) {
		t.Fatalf("evaluated_at moved back to %s", s.EvaluatedAt)
	}
	// Across a restart too: the store remembers the last period.
	st.Close()
	st2 := reopen()
	e2 := newEngine(t, st2, &recorder{}, nil)
	if ts := evalAt(t, e2, minute(5)); len(ts) != 0 {
		t.Fatalf("after restart with the clock back: %+v", ts)
	}
	// Once time passes the last evaluated period, evaluation resumes and
	// every transition is dated after the previous one.
	put(t, st2, 10, 20, 20)
	ts := evalAt(t, e2, minute(12))
	if len(ts) != 1 || ts[0].To != Alarm || !ts[0].Time.After(minute(10)) {
		t.Fatalf("resumed: %+v", ts)
	}
}

func TestEngineDelayCountsLateData(t *testing.T) {
	st := storetest.Open(t)
	e, err := New(Options{Spec: parseSpec(t, loadSpec), Store: st, Delay: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	put(t, st, 0, 20)
	// At 03:02:20 the period ending at 03:02 is not due yet.
	evalAt(t, e, minute(2).Add(20*time.Second))
	if s := stateOf(t, e, "High-Load"); !s.EvaluatedAt.Equal(minute(1)) {
		t.Fatalf("evaluated %s at 03:02:20, want 03:01", s.EvaluatedAt)
	}
	// Its datapoint arrives late; at 03:02:30 it counts.
	put(t, st, 1, 20)
	if ts := evalAt(t, e, minute(2).Add(30*time.Second)); len(ts) != 1 || ts[0].To != Alarm || !ts[0].Time.Equal(minute(2)) {
		t.Fatalf("late data: %+v", ts)
	}
}

func TestEngineStatesListsEverySpecAlarm(t *testing.T) {
	st := storetest.Open(t)
	e := newEngine(t, st, &recorder{}, nil)
	states, err := e.States(context.Background())
	if err != nil || len(states) != 2 {
		t.Fatalf("%+v %v", states, err)
	}
	if s := states[0]; s.Alarm != "High-Load" || !s.Enabled || s.State != InsufficientData || s.Reason != initialReason || !s.EvaluatedAt.IsZero() {
		t.Errorf("never evaluated: %+v", s)
	}
	// A disabled alarm is listed and never evaluated.
	evalAt(t, e, minute(1))
	if s := stateOf(t, e, "Off"); s.Enabled || !s.EvaluatedAt.IsZero() {
		t.Errorf("disabled: %+v", s)
	}
	// A first evaluation without data records the period evaluated.
	if s := stateOf(t, e, "High-Load"); s.State != InsufficientData || !s.EvaluatedAt.Equal(minute(1)) {
		t.Errorf("evaluated without data: %+v", s)
	}
}

func TestNewRejectsUnevaluableAlarms(t *testing.T) {
	st := storetest.Open(t)
	s := parseSpec(t, strings.Replace(loadSpec, "metric: Load\n", "expression: DIFF(2) + Load\n", 1))
	if _, err := New(Options{Spec: s, Store: st}); err == nil || !strings.Contains(err.Error(), "DIFF needs a metric") {
		t.Fatalf("got %v", err)
	}
	if _, err := New(Options{Store: st}); err == nil {
		t.Fatal("New without a spec succeeded")
	}
}

func TestRunEvaluatesAtAlignedBoundariesPlusDelay(t *testing.T) {
	st := storetest.Open(t)
	rec := &recorder{}
	clk := newFakeClock(minute(0).Add(5 * time.Second))
	e, err := New(Options{Spec: parseSpec(t, loadSpec), Store: st, Clock: clk, Delay: 15 * time.Second, OnTransition: rec.hook})
	if err != nil {
		t.Fatal(err)
	}
	put(t, st, 0, 20, 20)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	// Each wait ends at a minute boundary plus the 15 s delay.
	for i, want := range []time.Time{minute(0).Add(15 * time.Second), minute(1).Add(15 * time.Second), minute(2).Add(15 * time.Second)} {
		w := <-clk.waits
		if !w.until.Equal(want) {
			t.Fatalf("wait %d until %s, want %s", i, w.until.Format("15:04:05"), want.Format("15:04:05"))
		}
		clk.set(w.until)
		w.fire <- w.until
	}
	pending := <-clk.waits // Run has evaluated 03:02 and waits again.
	// One breaching datapoint (03:01) is too recent to alarm on 2 of 2;
	// the second (03:02) alarms.
	got := rec.transitions()
	if len(got) != 1 || got[0].From != InsufficientData || got[0].To != Alarm || !got[0].Time.Equal(minute(2)) {
		t.Fatalf("transitions %+v", got)
	}
	// The clock jumps back an hour: Run evaluates nothing twice and waits
	// for the next boundary as the clock now reads it.
	clk.set(minute(-60))
	pending.fire <- minute(-60)
	if w := <-clk.waits; !w.until.Equal(minute(-60).Add(15 * time.Second)) {
		t.Fatalf("after the clock went back, waits until %s", w.until.Format("15:04:05"))
	}
	if got := rec.transitions(); len(got) != 1 {
		t.Fatalf("transitions after the clock went back: %+v", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v after cancel", err)
	}
}

// TestRunSaysOnceWhenEvaluationFails: evaluations that keep failing (the
// store refuses the transition) are logged once at ERROR, and their end
// once, not every round.
func TestRunSaysOnceWhenEvaluationFails(t *testing.T) {
	st := storetest.Open(t)
	rec := &recorder{fail: errors.New("the store refuses writes")}
	clk := newFakeClock(minute(2).Add(5 * time.Second))
	var logs bytes.Buffer
	e, err := New(Options{Spec: parseSpec(t, loadSpec), Store: st, Clock: clk, Delay: 15 * time.Second, OnTransition: rec.hook,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	put(t, st, 0, 20, 20)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	for range 4 {
		w := <-clk.waits
		clk.set(w.until)
		w.fire <- w.until
	}
	rec.mu.Lock()
	rec.fail = nil
	rec.mu.Unlock()
	for range 2 {
		w := <-clk.waits
		clk.set(w.until)
		w.fire <- w.until
	}
	<-clk.waits
	cancel()
	<-done
	if n := strings.Count(logs.String(), "level=ERROR msg=\"alarm evaluation failing\""); n != 1 {
		t.Errorf("%d ERROR lines for one spell of failures:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "alarm evaluation works again"); n != 1 {
		t.Errorf("%d lines for the recovery:\n%s", n, logs.String())
	}
}

// TestEnginesOnTwoReplicasRecordEachTransitionOnce: two engines on two
// handles of one store (a leader and a deposed one still writing) that
// evaluate the same periods at once record each transition once, each
// from the state the previous one left: the compare-and-set holds the
// alarm's lock, not only a read, so the loser finds the state moved and
// reloads.
func TestEnginesOnTwoReplicasRecordEachTransitionOnce(t *testing.T) {
	open := storetest.Opener(t)
	a, b := open(), open()
	values := make([]float64, 40)
	for i := range values {
		values[i] = 20
		if i%3 == 2 {
			values[i] = 1
		}
	}
	put(t, a, 0, values...)
	ea, eb := newEngine(t, a, &recorder{}, nil), newEngine(t, b, &recorder{}, nil)
	for k := 2; k <= len(values); k++ {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, e := range []*Engine{ea, eb} {
			wg.Go(func() {
				<-start
				// A loser's stale state is an error for its round, as in
				// Run; the next round reloads.
				e.EvaluateOnce(context.Background(), minute(k))
			})
		}
		close(start)
		wg.Wait()
	}
	rows, err := a.Reader().Query(`SELECT at, from_state, to_state FROM alarm_history WHERE alarm = 'High-Load' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n, prev, seen := 0, InsufficientData, map[int64]bool{}
	for rows.Next() {
		var at int64
		var from, to State
		if err := rows.Scan(&at, &from, &to); err != nil {
			t.Fatal(err)
		}
		if seen[at] || from != prev {
			t.Errorf("transition %d at %s: %s -> %s after %s (recorded twice, or from a state it was not in)", n, store.FromMillis(at).Format("15:04"), from, to, prev)
		}
		seen[at], prev = true, to
		n++
	}
	// As many as one engine alone records over the same data.
	ref := storetest.Open(t)
	put(t, ref, 0, values...)
	one := newEngine(t, ref, &recorder{}, nil)
	want := 0
	for k := 2; k <= len(values); k++ {
		want += len(evalAt(t, one, minute(k)))
	}
	if n != want || want < 20 {
		t.Errorf("%d transitions recorded by two engines, want %d as one engine records", n, want)
	}
}

// TestHooksRunInOrderAndAFailingOneRollsBack: the registered hooks see
// each transition in order, inside its transaction; one that fails rolls
// back what the others wrote, and its name is in the error.
func TestHooksRunInOrderAndAFailingOneRollsBack(t *testing.T) {
	st := storetest.Open(t)
	var order []string
	first := &recorder{}
	failing := errors.New("incident store full")
	e, err := New(Options{Spec: parseSpec(t, loadSpec), Store: st, Delay: -1, Hooks: []Hook{
		{Name: "notifications", Fn: func(ctx context.Context, tx *sql.Tx, tr Transition) error {
			order = append(order, "notifications")
			return first.hook(ctx, tx, tr)
		}},
		{Name: "incidents", Fn: func(context.Context, *sql.Tx, Transition) error {
			order = append(order, "incidents")
			return failing
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	put(t, st, 0, 20, 20)
	_, err = e.EvaluateOnce(context.Background(), minute(2))
	if err == nil || !strings.Contains(err.Error(), "incidents: incident store full") {
		t.Fatalf("want the failing hook named, got %v", err)
	}
	if strings.Join(order, ",") != "notifications,incidents" {
		t.Errorf("hooks ran %v", order)
	}
	if outboxRows(t, st) != 0 {
		t.Error("the first hook's row outlived the failed transition")
	}
}
