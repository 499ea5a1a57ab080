package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// Two stages stand between routing and the outbox, in Alertmanager's
// order: inhibit (an alarm of an inhibit rule's source is in ALARM), then
// silence (an active silence matches). A notification either holds back
// is written to the table held instead of the outbox; the transition is
// recorded as always. When nothing holds it any more, the leader's worker
// sends it if its alarm is still in ALARM in the same episode, once, and
// drops it otherwise.

// holdReason is what holds a notification back: an alarm in ALARM (an
// inhibit rule's source) or a silence. The zero value holds nothing.
type holdReason struct {
	inhibitor string
	silence   int64
}

func (h holdReason) holds() bool { return h.inhibitor != "" || h.silence != 0 }

// String is how records and lists say it.
func (h holdReason) String() string {
	if h.inhibitor != "" {
		return "inhibited by " + h.inhibitor
	}
	return fmt.Sprintf("silenced by #%d", h.silence)
}

// inhibitedBy returns the source alarm in ALARM of an inhibit rule that
// targets a, read inside q, or "".
func inhibitedBy(ctx context.Context, q store.Querier, s *spec.Spec, a *spec.Alarm) (string, error) {
	for _, r := range s.Notify.Inhibit {
		if !slices.Contains(spec.AlarmsMatching(s, r.Target...), a.Name) {
			continue
		}
		for _, src := range r.Source {
			// A source the engine no longer evaluates keeps its last
			// state for ever: only an enabled alarm of the spec holds.
			if sa, ok := s.Alarm(src); !ok || !sa.Enabled.On() {
				continue
			}
			st, ok, err := alarm.StateIn(ctx, q, src)
			if err != nil {
				return "", err
			}
			if ok && st.State == alarm.Alarm {
				return src, nil
			}
		}
	}
	return "", nil
}

// silencing returns the active silence that holds an alarm's
// notifications at now, nil if none.
func silencing(ctx context.Context, q store.Querier, a *spec.Alarm, now time.Time) (*Silence, error) {
	ss, err := Silences(ctx, q, now, true)
	if err != nil {
		return nil, err
	}
	labels := alarmLabels(a)
	for i := len(ss) - 1; i >= 0; i-- { // the oldest first: it was there first
		if ss[i].Active(now) && ss[i].Matches(labels) {
			return &ss[i], nil
		}
	}
	return nil, nil
}

// holding runs the inhibit and silence stages for an alarm's
// notification at now.
func holding(ctx context.Context, q store.Querier, s *spec.Spec, a *spec.Alarm, now time.Time) (holdReason, error) {
	src, err := inhibitedBy(ctx, q, s, a)
	if err != nil || src != "" {
		return holdReason{inhibitor: src}, err
	}
	si, err := silencing(ctx, q, a, now)
	if err != nil || si == nil {
		return holdReason{}, err
	}
	return holdReason{silence: si.ID}, nil
}

// hold keeps a notification held back, instead of the outbox row it would
// have been.
func hold(ctx context.Context, tx *sql.Tx, why holdReason, channel string, r row, m Message, transitionID int64, now time.Time) error {
	payload, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("held payload: %w", err)
	}
	var tid, sid any
	if transitionID != 0 {
		tid = transitionID
	}
	if why.silence != 0 {
		sid = why.silence
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO held (silence_id, inhibitor, channel, kind, alarm, transition_id, dedup_key, payload, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, sid, why.inhibitor, channel, string(r.kind), m.Alarm, tid, r.key, string(payload), store.Millis(now))
	if err != nil {
		return fmt.Errorf("hold %s for %s: %w", r.kind, channel, err)
	}
	return nil
}

// heldRow is a held notification not yet released.
type heldRow struct {
	id, transitionID int64
	hasTransitionID  bool
	channel, kind    string
	alarm, key, body string
	inhibitor        string
	silenceEnded     bool
}

// releaseHeld sends the held notifications nothing holds any more, if
// their alarms are still in ALARM in the same episode, and drops the
// others; one that another silence or inhibitor holds by now moves to it.
// It runs on the leader's worker, under each alarm's state lock, so that
// a release and a resolve never cross.
func (w *Worker) releaseHeld(ctx context.Context, now time.Time) (int, error) {
	if !w.leads() {
		return 0, nil
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	due, err := w.heldDue(ctx, now)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	sent := 0
	err = w.st.WriteTx(ctx, func(tx *sql.Tx) error {
		sent = 0
		for _, h := range due {
			if err := w.st.LockTx(ctx, tx, alarm.StateLock(h.alarm)); err != nil {
				return err
			}
			outcome, err := w.release(ctx, tx, h, now)
			if err != nil {
				return err
			}
			if outcome == "sent" {
				sent++
			}
		}
		if sent > 0 && w.outbox != nil && w.outbox.st != nil {
			return w.outbox.st.Wake(ctx, tx, WakeTopic)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("release held notifications: %w", err)
	}
	if sent > 0 {
		w.log.Info("held notifications sent: their silence ended or their inhibitor resolved", "deliveries", sent)
	}
	return sent, nil
}

// heldDue reads the held notifications whose silence has ended or whose
// inhibitor is no longer in ALARM.
func (w *Worker) heldDue(ctx context.Context, now time.Time) ([]heldRow, error) {
	rows, err := w.st.Reader().QueryContext(ctx, `SELECT h.id, h.channel, h.kind, h.alarm, h.transition_id, h.dedup_key, h.payload, h.inhibitor,
		coalesce(s.ends_at <= ?1 OR s.expired_at <= ?1, false)
		FROM held h LEFT JOIN silences s ON s.id = h.silence_id
		WHERE h.released_at IS NULL ORDER BY h.id`, store.Millis(now))
	if err != nil {
		return nil, fmt.Errorf("held notifications: %w", err)
	}
	var all []heldRow
	for rows.Next() {
		var h heldRow
		var tid sql.NullInt64
		if err := rows.Scan(&h.id, &h.channel, &h.kind, &h.alarm, &tid, &h.key, &h.body, &h.inhibitor, &h.silenceEnded); err != nil {
			rows.Close()
			return nil, err
		}
		h.transitionID, h.hasTransitionID = tid.Int64, tid.Valid
		all = append(all, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var due []heldRow
	for _, h := range all {
		if h.inhibitor == "" {
			if h.silenceEnded {
				due = append(due, h)
			}
			continue
		}
		ok, err := w.inhibitionOver(ctx, h, now)
		if err != nil {
			return nil, err
		}
		if ok {
			due = append(due, h)
		}
	}
	return due, nil
}

// inhibitionOver says whether an inhibited notification is due: its
// alarm left the episode (it is dropped), or no
// enabled source of the spec's rules holds its alarm back (a source
// disabled or removed holds nothing), and its inhibitor has stayed out of
// ALARM for one of its periods, so that a source that flaps does not
// release everything it holds at its first OK.
func (w *Worker) inhibitionOver(ctx context.Context, h heldRow, now time.Time) (bool, error) {
	a, ok := w.s.Alarm(h.alarm)
	if !ok {
		return true, nil
	}
	// A target that left its episode is dropped at once.
	if st, ok, err := alarm.StateIn(ctx, w.st.Reader(), h.alarm); err != nil || !ok || st.State != alarm.Alarm || DedupKey(w.s, h.alarm, st.Episode) != h.key {
		return err == nil, err
	}
	if src, err := inhibitedBy(ctx, w.st.Reader(), w.s, a); err != nil || src != "" {
		return false, err
	}
	src, ok := w.s.Alarm(h.inhibitor)
	if !ok || !src.Enabled.On() {
		return true, nil
	}
	st, ok, err := alarm.StateIn(ctx, w.st.Reader(), h.inhibitor)
	if err != nil || !ok {
		return err == nil, err
	}
	return now.Sub(st.ChangedAt) >= src.Period.D(), nil
}

// release decides one held notification inside tx.
func (w *Worker) release(ctx context.Context, tx *sql.Tx, h heldRow, now time.Time) (string, error) {
	a, ok := w.s.Alarm(h.alarm)
	if !ok {
		return w.settle(ctx, tx, h.id, now, "dropped")
	}
	st, ok, err := alarm.StateIn(ctx, tx, h.alarm)
	if err != nil {
		return "", err
	}
	if !ok || st.State != alarm.Alarm || DedupKey(w.s, h.alarm, st.Episode) != h.key {
		return w.settle(ctx, tx, h.id, now, "dropped")
	}
	why, err := holding(ctx, tx, w.s, a, now)
	if err != nil {
		return "", err
	}
	if why.holds() {
		var sid any
		if why.silence != 0 {
			sid = why.silence
		}
		_, err := tx.ExecContext(ctx, `UPDATE held SET silence_id = ?, inhibitor = ? WHERE id = ?`, sid, why.inhibitor, h.id)
		return "held", err
	}
	if told, err := episodeOpen(ctx, tx, h.alarm, h.channel, h.key); err != nil || told {
		if err != nil {
			return "", err
		}
		return w.settle(ctx, tx, h.id, now, "dropped")
	}
	var m Message
	if err := json.Unmarshal([]byte(h.body), &m); err != nil {
		return "", fmt.Errorf("held notification %d: %w", h.id, err)
	}
	tid := int64(0)
	if h.hasTransitionID {
		tid = h.transitionID
	}
	if err := insertRow(ctx, tx, h.channel, row{kind: Kind(h.kind), key: h.key}, m, tid, now); err != nil {
		return "", err
	}
	w.outbox.wake()
	return w.settle(ctx, tx, h.id, now, "sent")
}

func (w *Worker) settle(ctx context.Context, tx *sql.Tx, id int64, now time.Time, outcome string) (string, error) {
	_, err := tx.ExecContext(ctx, `UPDATE held SET released_at = ?, outcome = ? WHERE id = ? AND released_at IS NULL`,
		store.Millis(now), outcome, id)
	return outcome, err
}

// HeldOf returns the notifications held back for the transitions
// (alarm_history ids), as records of state "silenced" or "inhibited",
// with what holds (or held) them and, once released, what became of them
// in LastError, oldest first.
func HeldOf(ctx context.Context, q store.Querier, transitions []int64) ([]Record, error) {
	if len(transitions) == 0 {
		return nil, nil
	}
	args := make([]any, len(transitions))
	for i, id := range transitions {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, `SELECT `+heldColumns+` FROM held
		WHERE transition_id IN (?`+strings.Repeat(", ?", len(args)-1)+`) ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("held notifications: %w", err)
	}
	return scanHeld(rows)
}

// heldColumns are the held columns scanHeld reads, in its order.
const heldColumns = `id, channel, kind, alarm, dedup_key, coalesce(silence_id, 0), inhibitor, outcome, created_at`

// scanHeld reads rows of heldColumns as records, and closes them.
func scanHeld(rows *sql.Rows) ([]Record, error) {
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var why holdReason
		var created int64
		var outcome string
		if err := rows.Scan(&r.ID, &r.Channel, &r.Kind, &r.Alarm, &r.DedupKey, &why.silence, &why.inhibitor, &outcome, &created); err != nil {
			return nil, err
		}
		r.State = "silenced"
		if why.inhibitor != "" {
			r.State = "inhibited"
		}
		r.Created, r.NextAt = store.FromMillis(created), store.FromMillis(created)
		r.LastError = why.String()
		if outcome != "" {
			r.LastError += "; " + outcome + " at its end"
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
