// Package inbox is the local channel: notifications kept in dpcops' own
// store and listed by the web UI, with nothing to configure. It is the
// default for local use and the record of what was announced when no
// external receiver is set up.
//
// A delivery is one row, keyed by its outbox id: a resend after a crash
// finds the row and adds nothing, so the inbox never shows a duplicate.
package inbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/store"
)

// Notifier writes deliveries into the store's inbox table.
type Notifier struct {
	name string
	st   *store.Store
	now  func() time.Time
}

// New returns the notifier of an inbox channel.
func New(name string, st *store.Store) *Notifier {
	return &Notifier{name: name, st: st, now: time.Now}
}

// Notify stores the message. A store error is retried.
func (n *Notifier) Notify(ctx context.Context, d *notify.Delivery) (bool, error) {
	m := d.Message
	payload, err := json.Marshal(m)
	if err != nil {
		return false, fmt.Errorf("%s: encode message: %w", n.name, err)
	}
	var outboxID any
	if d.ID != 0 {
		outboxID = d.ID
	}
	var added int64
	err = n.st.WriteTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO inbox (outbox_id, channel, kind, alarm, severity, state, episode, dedup_key,
				title, text, message, at, received_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (outbox_id) DO NOTHING`,
			outboxID, n.name, string(d.Kind), m.Alarm, m.Severity, m.To, m.Episode, d.DedupKey,
			m.Title(), m.Summary()+"\n"+m.Reason, string(payload), store.Millis(m.Time), store.Millis(n.now()))
		if err != nil {
			return err
		}
		added, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return true, fmt.Errorf("%s: store: %w", n.name, err)
	}
	d.Answer = notify.Answer{Status: 200, Body: "stored"}
	if added == 0 {
		d.Answer.Body = "already stored"
	}
	return false, nil
}

// Item is one inbox message.
type Item struct {
	ID       int64          `json:"id"`
	Channel  string         `json:"channel"`
	Kind     string         `json:"kind"`
	Alarm    string         `json:"alarm"`
	Severity string         `json:"severity"`
	State    string         `json:"state"`
	Episode  int64          `json:"episode"`
	DedupKey string         `json:"dedup_key"`
	Title    string         `json:"title"`
	Text     string         `json:"text"`
	Message  notify.Message `json:"message"`
	// At is the transition's time, Received when the inbox got it.
	At       time.Time `json:"at"`
	Received time.Time `json:"received"`
	// Read is zero while unread.
	Read time.Time `json:"read,omitzero"`
}

// Query selects inbox messages; zero values select all.
type Query struct {
	Alarm string
	// Unread keeps only unread messages.
	Unread bool
	// Limit bounds the messages returned, newest first (default 50).
	Limit int
}

// List returns inbox messages, newest first: the reader for the web UI
// and the API.
func List(ctx context.Context, db *sql.DB, q Query) ([]Item, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	rows, err := db.QueryContext(ctx, `SELECT id, channel, kind, alarm, severity, state, episode, dedup_key, title, text,
			message, at, received_at, read_at
		FROM inbox WHERE (? = '' OR alarm = ?) AND (NOT ? OR read_at IS NULL)
		ORDER BY received_at DESC, id DESC LIMIT ?`, q.Alarm, q.Alarm, q.Unread, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var it Item
		var msg string
		var at, received int64
		var read sql.NullInt64
		if err := rows.Scan(&it.ID, &it.Channel, &it.Kind, &it.Alarm, &it.Severity, &it.State, &it.Episode, &it.DedupKey,
			&it.Title, &it.Text, &msg, &at, &received, &read); err != nil {
			return nil, fmt.Errorf("inbox: %w", err)
		}
		// A message this dpcops cannot parse still shows its title and text.
		_ = json.Unmarshal([]byte(msg), &it.Message)
		it.At, it.Received = store.FromMillis(at), store.FromMillis(received)
		if read.Valid {
			it.Read = store.FromMillis(read.Int64)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// MarkRead marks inbox messages read (all unread ones when ids is empty)
// and returns how many it marked.
func MarkRead(ctx context.Context, st *store.Store, now time.Time, ids ...int64) (int64, error) {
	var n int64
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		n = 0
		if len(ids) == 0 {
			res, err := tx.ExecContext(ctx, `UPDATE inbox SET read_at = ? WHERE read_at IS NULL`, store.Millis(now))
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		}
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, `UPDATE inbox SET read_at = ? WHERE id = ? AND read_at IS NULL`, store.Millis(now), id)
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("inbox: mark read: %w", err)
	}
	return n, nil
}

// Unread counts the unread messages, for a badge in the UI.
func Unread(ctx context.Context, db *sql.DB) (int, error) {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM inbox WHERE read_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("inbox: %w", err)
	}
	return n, nil
}
