package notify

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// repeats enqueues a repeat for every alarm with a repeat_interval that
// is in ALARM and whose episode was last announced (trigger or repeat, to
// any channel) at least repeat_interval ago; an episode never announced
// counts from the alarm's entry into ALARM. The repeat goes where a
// trigger would, with the episode's dedup key, so PagerDuty and OpsGenie
// add it to the open incident. It runs at most once per poll interval.
//
// The alarm's state is read again inside the write transaction, so a
// repeat can never be enqueued after the resolve of its episode: that
// would reopen the incident. Only the leader's worker enqueues repeats.
func (w *Worker) repeats(ctx context.Context, now time.Time) error {
	if now.Before(w.nextRepeatCheck) {
		return nil
	}
	w.nextRepeatCheck = now.Add(w.poll)
	if len(w.repeating) == 0 || !w.leads() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	var due []*spec.Alarm
	for _, a := range w.repeating {
		_, ok, err := repeatDue(ctx, w.st.Reader(), a, w.s, now)
		if err != nil {
			return err
		}
		if ok {
			due = append(due, a)
		}
	}
	if len(due) == 0 {
		return nil
	}
	err := w.st.WriteTx(ctx, func(tx *sql.Tx) error {
		for _, a := range due {
			// The alarm's state lock, as its transitions take: a resolve
			// committing beside this waits, or is seen.
			if err := w.st.LockTx(ctx, tx, alarm.StateLock(a.Name)); err != nil {
				return err
			}
			if _, err := w.outbox.enqueueRepeat(ctx, tx, a, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("enqueue repeats: %w", err)
	}
	return nil
}

// repeatingAlarms are the alarms that may owe repeats: enabled, with a
// repeat_interval, and routed somewhere (an alarm routed nowhere would owe
// a repeat forever and cost a write on every check).
func repeatingAlarms(s *spec.Spec) []*spec.Alarm {
	var out []*spec.Alarm
	for i := range s.Alarms {
		a := &s.Alarms[i]
		if a.Enabled.On() && a.RepeatInterval > 0 && len(routes(s, AlarmEvent(a, string(alarm.Alarm)), func(*spec.Channel) {})) > 0 {
			out = append(out, a)
		}
	}
	return out
}

// lastAnnounced is when the episode was last announced (trigger or
// repeat), or the alarm's entry into ALARM when it never was.
func lastAnnounced(ctx context.Context, q store.Querier, name, key string, st alarm.Status) (int64, error) {
	var last sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT max(created_at) FROM outbox WHERE alarm = ? AND dedup_key = ? AND kind IN ('trigger', 'repeat')`,
		name, key).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("last notification of %s: %w", name, err)
	}
	if last.Valid {
		return last.Int64, nil
	}
	return store.Millis(st.ChangedAt), nil
}

// repeatDue reports whether the alarm is in ALARM and owes a repeat, with
// the state it read through q (alarm_state is the alarm package's).
func repeatDue(ctx context.Context, q store.Querier, a *spec.Alarm, s *spec.Spec, now time.Time) (alarm.Status, bool, error) {
	st, ok, err := alarm.StateIn(ctx, q, a.Name)
	if err != nil || !ok || st.State != alarm.Alarm {
		return st, false, err
	}
	last, err := lastAnnounced(ctx, q, a.Name, DedupKey(s, a.Name, st.Episode), st)
	if err != nil {
		return st, false, err
	}
	return st, store.Millis(now)-last >= a.RepeatInterval.D().Milliseconds(), nil
}

// enqueueRepeat writes the repeat rows of one alarm inside tx if, read
// again inside tx, it still owes them; it returns how many it wrote.
func (o *Outbox) enqueueRepeat(ctx context.Context, tx *sql.Tx, a *spec.Alarm, now time.Time) (int, error) {
	st, ok, err := repeatDue(ctx, tx, a, o.s, now)
	if err != nil || !ok {
		return 0, err
	}
	// A silence or an inhibitor holds repeats back too. They are not
	// kept: the trigger held goes out when released and stands for them.
	if why, err := holding(ctx, tx, o.s, a, now); err != nil || why.holds() {
		return 0, err
	}
	t := alarm.Transition{Alarm: a.Name, Time: now, From: alarm.Alarm, To: alarm.Alarm, Reason: st.Reason,
		ReasonData: st.ReasonData, Episode: st.Episode}
	key := DedupKey(o.s, a.Name, st.Episode)
	n := 0
	m := NewMessage(o.s, a, t, KindRepeat)
	for _, r := range routes(o.s, AlarmEvent(a, string(alarm.Alarm)), o.logOff) {
		if err := insertRow(ctx, tx, r.channel.Name, row{kind: KindRepeat, key: key}, m, 0, now); err != nil {
			return 0, err
		}
		n++
	}
	if n > 0 {
		o.log.Info("alarm still in ALARM: repeat enqueued", "alarm", a.Name, "episode", st.Episode, "deliveries", n)
	}
	return n, nil
}
