package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/store"
)

// DeliveryStates are the states of an outbox row.
var DeliveryStates = []string{"pending", "sending", "sent", "failed", "expired", "silenced", "inhibited"}

// Record is one outbox row as `dpcops notify list` and the web UI show it.
type Record struct {
	ID       int64  `json:"id"`
	Channel  string `json:"channel"`
	Kind     string `json:"kind"`
	Alarm    string `json:"alarm"`
	DedupKey string `json:"dedup_key"`
	State    string `json:"state"`
	Attempts int    `json:"attempts"`
	// Resends counts attempts made again after a crash.
	Resends int `json:"resends"`
	// Status and Response are the receiver's last answer.
	Status    int       `json:"status"`
	Response  string    `json:"response,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	Created   time.Time `json:"created"`
	NextAt    time.Time `json:"next_attempt_at"`
	// FirstAttempt and Sent are zero when they have not happened.
	FirstAttempt time.Time `json:"first_attempt_at,omitzero"`
	Sent         time.Time `json:"sent_at,omitzero"`
}

// Query selects outbox rows; zero values select all.
type Query struct {
	State   string
	Channel string
	Alarm   string
	// Limit bounds the rows returned, newest first (default 100).
	Limit int
}

// List returns outbox rows, newest first.
func List(ctx context.Context, db *sql.DB, q Query) ([]Record, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	rows, err := db.QueryContext(ctx, `SELECT `+recordColumns+`
		FROM outbox WHERE (? = '' OR state = ?) AND (? = '' OR channel = ?) AND (? = '' OR alarm = ?)
		ORDER BY id DESC LIMIT ?`, q.State, q.State, q.Channel, q.Channel, q.Alarm, q.Alarm, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	out, err := scanRecords(rows)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	if q.State == "" || q.State == "silenced" || q.State == "inhibited" {
		held, err := listHeld(ctx, db, q)
		if err != nil {
			return nil, err
		}
		out = append(out, held...)
		sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
		out = out[:min(len(out), q.Limit)]
	}
	return out, nil
}

// listHeld returns the notifications silences held back, as HeldOf does,
// newest first.
func listHeld(ctx context.Context, db *sql.DB, q Query) ([]Record, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+heldColumns+` FROM held
		WHERE (?1 = '' OR channel = ?1) AND (?2 = '' OR alarm = ?2)
		AND (?4 = '' OR (?4 = 'inhibited') = (inhibitor <> '')) ORDER BY id DESC LIMIT ?3`, q.Channel, q.Alarm, q.Limit, q.State)
	if err != nil {
		return nil, fmt.Errorf("list held notifications: %w", err)
	}
	return scanHeld(rows)
}

// recordColumns are the outbox columns scanRecords reads, in its order.
const recordColumns = `id, channel, kind, alarm, dedup_key, state, attempts, resends, status,
	response, last_error, created_at, next_attempt_at, first_attempt_at, sent_at`

// scanRecords reads rows of recordColumns, and closes them.
func scanRecords(rows *sql.Rows) ([]Record, error) {
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		var created, next int64
		var first, sent sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Channel, &r.Kind, &r.Alarm, &r.DedupKey, &r.State, &r.Attempts, &r.Resends, &r.Status,
			&r.Response, &r.LastError, &created, &next, &first, &sent); err != nil {
			return nil, err
		}
		r.Created, r.NextAt = store.FromMillis(created), store.FromMillis(next)
		if first.Valid {
			r.FirstAttempt = store.FromMillis(first.Int64)
		}
		if sent.Valid {
			r.Sent = store.FromMillis(sent.Int64)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// DeliveriesOf returns the deliveries that the transitions (alarm_history
// ids) owed, read through q, oldest first.
//
// runbook calls it to put on an incident's timeline the notifications
// each of the alarm's transitions owed and how each went.
func DeliveriesOf(ctx context.Context, q store.Querier, transitions []int64) ([]Record, error) {
	if len(transitions) == 0 {
		return nil, nil
	}
	args := make([]any, len(transitions))
	for i, id := range transitions {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, `SELECT `+recordColumns+` FROM outbox
		WHERE transition_id IN (?`+strings.Repeat(", ?", len(args)-1)+`) ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("deliveries of transitions: %w", err)
	}
	out, err := scanRecords(rows)
	if err != nil {
		return nil, fmt.Errorf("deliveries of transitions: %w", err)
	}
	// The notifications a silence held back are on the timeline too.
	held, err := HeldOf(ctx, q, transitions)
	if err != nil {
		return nil, err
	}
	out = append(out, held...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// Waiting returns how many deliveries of the alarm's entries into ALARM in
// episode (alarm.EntriesIntoAlarm) have not left the outbox yet: pending,
// or being sent. None waiting means the page went out, or failed for good.
//
// runbook's actor calls it: an alarm's action runs after the page, so
// that the person paged learns of the alarm before dpcops acts on it.
func Waiting(ctx context.Context, q store.Querier, alarmName string, episode int64) (int, error) {
	ids, err := alarm.EntriesIntoAlarm(ctx, q, alarmName, episode)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	var n int
	err = q.QueryRowContext(ctx, `SELECT count(*) FROM outbox
		WHERE transition_id IN (?`+strings.Repeat(", ?", len(args)-1)+`) AND state IN ('pending', 'sending')`, args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("deliveries waiting for %s episode %d: %w", alarmName, episode, err)
	}
	return n, nil
}

// ErrNotRetryable is returned by Retry for a delivery that is not failed
// or expired.
var ErrNotRetryable = errors.New("only a failed or expired delivery can be retried")

// ErrNoDelivery is returned by Retry for an unknown delivery.
var ErrNoDelivery = errors.New("no such delivery")

// Retry puts a failed or expired delivery back to pending, due now, with
// a fresh notify.max_age (created_at moves to now; the message keeps the
// transition's time). Its last error stays until the next attempt.
func Retry(ctx context.Context, st *store.Store, id int64, now time.Time) error {
	return st.WriteTx(ctx, func(tx *sql.Tx) error {
		var state string
		err := tx.QueryRowContext(ctx, `SELECT state FROM outbox WHERE id = ?`, id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("delivery %d: %w", id, ErrNoDelivery)
		}
		if err != nil {
			return err
		}
		if state != "failed" && state != "expired" {
			return fmt.Errorf("delivery %d is %s: %w", id, state, ErrNotRetryable)
		}
		at := store.Millis(now)
		_, err = tx.ExecContext(ctx, `UPDATE outbox SET state = 'pending', next_attempt_at = ?, created_at = ?, claimed_at = NULL
			WHERE id = ?`, at, at, id)
		if err != nil {
			return err
		}
		// A retry asked on one replica is sent by whichever worker
		// claims it first.
		return st.Wake(ctx, tx, WakeTopic)
	})
}

// Retry puts a failed or expired delivery back to pending and wakes the
// worker; it has the signature of web.Actions.RetryDelivery.
func (w *Worker) Retry(ctx context.Context, id int64) error {
	if err := Retry(ctx, w.st, id, w.clock.Now()); err != nil {
		return err
	}
	w.Kick()
	return nil
}
