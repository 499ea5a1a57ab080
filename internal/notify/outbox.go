package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// OutboxOptions configure an Outbox.
type OutboxOptions struct {
	Spec   *spec.Spec
	Logger *slog.Logger
	// Clock stamps the rows' created_at and first due time (default: the
	// system clock).
	Clock Clock
	// Store, when set, is the store the rows are written to: on
	// PostgreSQL a transition that owes deliveries wakes the workers of
	// every replica when it commits (Store.Wake).
	Store *store.Store
}

// WakeTopic is what a transaction that leaves deliveries due announces
// (store.Wake), and what every worker listens for.
const WakeTopic = "dpcops_outbox"

// Outbox turns alarm transitions into outbox rows, one per routed
// channel, inside the transaction that commits the transition.
type Outbox struct {
	s     *spec.Spec
	log   *slog.Logger
	clock Clock

	st *store.Store

	mu        sync.Mutex
	offLogged map[string]bool
	kick      func()
}

// NewOutbox returns an outbox over the spec's topics and channels.
func NewOutbox(o OutboxOptions) *Outbox {
	ob := &Outbox{s: o.Spec, log: o.Logger, clock: o.Clock, st: o.Store, offLogged: map[string]bool{}}
	if ob.log == nil {
		ob.log = slog.New(slog.DiscardHandler)
	}
	if ob.clock == nil {
		ob.clock = alarm.SystemClock
	}
	return ob
}

// OnTransition has the signature of alarm.Options.OnTransition: it
// enqueues what t owes inside tx and wakes the workers. This process's
// worker is kicked at once, which is safe before the commit: its claim
// goes through the store's one writer connection, so it waits for this
// transaction to end and then sees its rows (or, after a rollback,
// none). Workers of other replicas are woken by the database when the
// transaction commits (Store.Wake).
func (o *Outbox) OnTransition(ctx context.Context, tx *sql.Tx, t alarm.Transition) error {
	n, err := o.Enqueue(ctx, tx, t)
	if err != nil || n == 0 {
		return err
	}
	if o.st != nil {
		if err := o.st.Wake(ctx, tx, WakeTopic); err != nil {
			return err
		}
	}
	o.wake()
	return nil
}

// setKick makes wake call kick (the worker's Kick).
func (o *Outbox) setKick(kick func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.kick = kick
}

func (o *Outbox) wake() {
	o.mu.Lock()
	kick := o.kick
	o.mu.Unlock()
	if kick != nil {
		kick()
	}
}

// Enqueue writes the outbox rows a transition owes inside tx and returns
// how many it wrote:
//
//   - to ALARM: a trigger for every routed channel not told of this
//     episode already (an episode goes on through INSUFFICIENT_DATA);
//   - to OK: for every routed channel with send_resolved (default true)
//     that was told of an episode of this alarm and not of its end: a
//     resolve per such episode on PagerDuty and OpsGenie (which close the
//     incident by its dedup key), one OK message elsewhere. A return to OK
//     with no episode told (such as INSUFFICIENT_DATA → OK at start-up)
//     owes nothing;
//   - to INSUFFICIENT_DATA: a notice only for channels whose subscription
//     filter lists the state INSUFFICIENT_DATA, and never to PagerDuty or
//     OpsGenie: missing data is not a reason to page or to close a page.
//
// An alarm that is not in the spec owes nothing.
func (o *Outbox) Enqueue(ctx context.Context, tx *sql.Tx, t alarm.Transition) (int, error) {
	a, ok := o.s.Alarm(t.Alarm)
	if !ok {
		o.log.Warn("transition of an alarm the spec does not define: nothing to notify", "alarm", t.Alarm)
		return 0, nil
	}
	now := o.clock.Now()
	key := DedupKey(o.s, t.Alarm, t.Episode)
	var why holdReason
	if t.To != alarm.OK {
		var err error
		if why, err = holding(ctx, tx, o.s, a, now); err != nil {
			return 0, err
		}
	}
	n, held := 0, 0
	for _, r := range routes(o.s, AlarmEvent(a, string(t.To)), o.logOff) {
		var rows []row
		switch t.To {
		case alarm.Alarm:
			// An episode that went on through missing data (ALARM →
			// INSUFFICIENT_DATA → ALARM) was paged already: no second page.
			told, err := episodeOpen(ctx, tx, t.Alarm, r.channel.Name, key)
			if err != nil {
				return 0, err
			}
			if !told {
				rows = []row{{kind: KindTrigger, key: key}}
			}
		case alarm.OK:
			open, err := closeEpisodes(ctx, tx, t.Alarm, r.channel.Name)
			if err != nil {
				return 0, err
			}
			switch {
			case len(open) == 0 || !SendsResolved(r.channel):
			case CanResolve(r.channel.Type):
				for _, k := range open {
					rows = append(rows, row{kind: KindResolve, key: k})
				}
			default:
				rows = []row{{kind: KindResolve, key: open[len(open)-1]}}
			}
		case alarm.InsufficientData:
			if r.asksState && !CanResolve(r.channel.Type) {
				rows = []row{{kind: KindNotice, key: key}}
			}
		}
		for _, rw := range rows {
			m := NewMessage(o.s, a, t, rw.kind)
			if why.holds() {
				// Recorded, not sent: what holds it decides, later.
				if err := hold(ctx, tx, why, r.channel.Name, rw, m, t.ID, now); err != nil {
					return 0, err
				}
				held++
				continue
			}
			if err := insertRow(ctx, tx, r.channel.Name, rw, m, t.ID, now); err != nil {
				return 0, err
			}
			n++
		}
	}
	if n > 0 {
		o.log.Info("notifications enqueued", "alarm", t.Alarm, "to", t.To, "episode", t.Episode, "deliveries", n)
	}
	if held > 0 {
		o.log.Info("notifications held back", "alarm", t.Alarm, "to", t.To, "episode", t.Episode, "why", why.String(), "deliveries", held)
	}
	return n, nil
}

// row is one outbox row to write.
type row struct {
	kind Kind
	key  string
}

// insertRow writes one pending row, due now. A trigger or repeat also
// records the episode as open on the channel.
func insertRow(ctx context.Context, tx *sql.Tx, channel string, r row, m Message, transitionID int64, now time.Time) error {
	payload, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("outbox payload: %w", err)
	}
	var tid any
	if transitionID != 0 {
		tid = transitionID
	}
	at := store.Millis(now)
	_, err = tx.ExecContext(ctx, `INSERT INTO outbox (channel, kind, alarm, transition_id, dedup_key, payload, state, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`, channel, string(r.kind), m.Alarm, tid, r.key, string(payload), at, at)
	if err != nil {
		return fmt.Errorf("enqueue %s for %s: %w", r.kind, channel, err)
	}
	if r.kind == KindTrigger || r.kind == KindRepeat {
		_, err = tx.ExecContext(ctx, `INSERT INTO notify_open (alarm, channel, dedup_key, opened_at) VALUES (?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, m.Alarm, channel, r.key, at)
		if err != nil {
			return fmt.Errorf("enqueue %s for %s: %w", r.kind, channel, err)
		}
	}
	return nil
}

// episodeOpen says whether the channel was told of the episode (a trigger
// or repeat) and not yet of its end.
func episodeOpen(ctx context.Context, tx *sql.Tx, alarmName, channel, key string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM notify_open WHERE alarm = ? AND channel = ? AND dedup_key = ?`,
		alarmName, channel, key).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("open episodes of %s on %s: %w", alarmName, channel, err)
	}
	return n > 0, nil
}

// closeEpisodes returns the dedup keys of the alarm's episodes the
// channel was told of (a trigger or repeat) and not told the end of,
// oldest first, and records them as told.
func closeEpisodes(ctx context.Context, tx *sql.Tx, alarmName, channel string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `DELETE FROM notify_open WHERE alarm = ? AND channel = ? RETURNING dedup_key, opened_at`,
		alarmName, channel)
	if err != nil {
		return nil, fmt.Errorf("open episodes of %s on %s: %w", alarmName, channel, err)
	}
	defer rows.Close()
	type open struct {
		key string
		at  int64
	}
	var keys []open
	for rows.Next() {
		var o open
		if err := rows.Scan(&o.key, &o.at); err != nil {
			return nil, err
		}
		keys = append(keys, o)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// RETURNING gives no order: oldest episode first.
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].at != keys[j].at {
			return keys[i].at < keys[j].at
		}
		return keys[i].key < keys[j].key
	})
	out := make([]string, len(keys))
	for i, o := range keys {
		out[i] = o.key
	}
	return out, nil
}

// logOff logs, once per channel, that a routed channel is off.
func (o *Outbox) logOff(ch *spec.Channel) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.offLogged[ch.Name] {
		return
	}
	o.offLogged[ch.Name] = true
	o.log.Info("channel is off: its notifications are not enqueued", "channel", ch.Name, "why", ch.Enabled.Reason())
}
