package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
)

// claim is a row this worker has claimed: the delivery to make and what
// the mark must match.
type claim struct {
	d         *Delivery
	claimedAt int64
	createdAt int64
}

// claim expires the rows older than notify.max_age, then claims the due
// rows of every channel with a free slot: pending rows whose attempt is
// due, and rows left in sending past their lease (a crash: they are sent
// again and counted as resends). Claiming is one transaction that sets
// state sending and claimed_at, so that a crash after it leaves the rows
// to be found again. It also returns when the next pending row of a
// channel with a free slot falls due.
//
// An unkicked pass first looks on a read connection whether anything is
// due, which spares an idle worker the write lock on every poll. A kicked
// pass does not: the kick may come from inside the transaction that
// writes the rows (Outbox.OnTransition), which a read connection cannot
// see yet, while the store's single writer connection makes the claim
// wait for that transaction to end.
func (w *Worker) claim(ctx context.Context, now time.Time, kicked bool) ([]claim, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	nowMs := store.Millis(now)
	// Finished attempts must be marked anyway: the claim shares their
	// transaction.
	due := kicked || len(w.unmarked) > 0
	if !due {
		var err error
		if due, err = w.anyDue(ctx, nowMs); err != nil {
			return nil, time.Time{}, err
		}
	}
	var out []claim
	var expired []expiredRow
	var m marks
	if due {
		err := w.st.WriteTx(ctx, func(tx *sql.Tx) error {
			out = out[:0]
			var err error
			if m, err = w.markIn(ctx, tx, now); err != nil {
				return err
			}
			if !now.Before(w.nextExpire) {
				// Expiry is measured in hours: once per poll interval
				// is plenty, and spares a busy worker a statement.
				if expired, err = w.expire(ctx, tx, now); err != nil {
					return err
				}
				w.nextExpire = now.Add(w.poll)
			}
			// Rows left in sending by a crash are looked for at start
			// and then once per poll interval, not on every pass.
			stale := !now.Before(w.nextStaleCheck)
			cs := &claimStmts{st: w.st, tx: tx}
			defer cs.close()
			for _, name := range w.channelNames() {
				if w.inflight[name] >= w.chans[name].limit {
					continue // full with this worker's own attempts
				}
				free, err := w.freeSlots(ctx, tx, name, now)
				if err != nil {
					return err
				}
				if free <= 0 {
					continue
				}
				got, err := w.claimChannel(ctx, cs, name, free, now, stale)
				if err != nil {
					return err
				}
				out = append(out, got...)
			}
			if stale {
				w.nextStaleCheck = now.Add(w.poll)
			}
			return nil
		})
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("claim deliveries: %w", err)
		}
	}
	w.marked(m)
	for _, e := range expired {
		w.m.deliveries.WithLabelValues(e.channel, OutcomeExpired).Inc()
		w.stats.Expired++
		w.log.Error("delivery expired", "id", e.id, "channel", e.channel, "max_age", w.s.Notify.MaxAge)
	}
	for _, c := range out {
		if c.d.Resend {
			w.m.resends.WithLabelValues(c.d.Channel).Inc()
			w.stats.Resent++
			w.log.Warn("sending again a delivery claimed before a crash", "id", c.d.ID, "channel", c.d.Channel, "dedup_key", c.d.DedupKey)
		}
		if c.d.Attempt == 1 {
			w.m.firstDelay.Observe(float64(nowMs-c.createdAt) / 1000)
		}
	}
	next, err := w.nextDue(ctx, nowMs, len(out))
	return out, next, err
}

// anyDue reports, from a read connection, whether any row is due.
func (w *Worker) anyDue(ctx context.Context, nowMs int64) (bool, error) {
	var due bool
	err := w.st.Reader().QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?)
		OR EXISTS (SELECT 1 FROM outbox WHERE state = 'sending' AND claimed_at <= ?)`,
		nowMs, nowMs-w.minLease.Milliseconds()).Scan(&due)
	if err != nil {
		return false, fmt.Errorf("look for due deliveries: %w", err)
	}
	return due, nil
}

// nextDue is when the next pending row of a channel that has a free slot
// falls due; zero if none. Rows of full channels are left out: the end of
// one of their attempts wakes the worker anyway.
func (w *Worker) nextDue(ctx context.Context, nowMs int64, claimed int) (time.Time, error) {
	if claimed > 0 {
		// Claiming changed the slots; the next pass looks again at once.
		return time.Time{}, nil
	}
	rows, err := w.st.Reader().QueryContext(ctx, `SELECT channel, min(next_attempt_at) FROM outbox
		WHERE state = 'pending' AND next_attempt_at > ? GROUP BY channel`, nowMs)
	if err != nil {
		return time.Time{}, fmt.Errorf("next due delivery: %w", err)
	}
	defer rows.Close()
	var next int64
	for rows.Next() {
		var ch string
		var at int64
		if err := rows.Scan(&ch, &at); err != nil {
			return time.Time{}, err
		}
		c, ok := w.chans[ch]
		if ok && w.inflight[ch] < c.limit && (next == 0 || at < next) {
			next = at
		}
	}
	if err := rows.Err(); err != nil || next == 0 {
		return time.Time{}, err
	}
	return store.FromMillis(next), nil
}

func (w *Worker) channelNames() []string {
	names := make([]string, 0, len(w.chans))
	for n := range w.chans {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// expiredRow is a row expire marked.
type expiredRow struct {
	id      int64
	channel string
}

// expire marks expired the pending rows created more than notify.max_age
// ago, and the rows left in sending by a crash that are as old.
func (w *Worker) expire(ctx context.Context, tx *sql.Tx, now time.Time) ([]expiredRow, error) {
	maxAge := w.s.Notify.MaxAge.D()
	if maxAge <= 0 {
		return nil, nil
	}
	cutoff := store.Millis(now.Add(-maxAge))
	nowMs := store.Millis(now)
	rows, err := tx.QueryContext(ctx, w.expireSQL, w.s.Notify.MaxAge.String(), cutoff, nowMs-w.maxLease.Milliseconds(), cutoff)
	if err != nil {
		return nil, fmt.Errorf("expire deliveries: %w", err)
	}
	defer rows.Close()
	var out []expiredRow
	for rows.Next() {
		var e expiredRow
		if err := rows.Scan(&e.id, &e.channel); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// A row waits while an older row of the same episode on the same channel
// is unfinished: a resend must never overtake its trigger, nor a resolve
// (OpsGenie would close nothing, then open an alert for good). The
// condition is applied before the limit, so that waiting rows never hide
// due ones behind them. Under workers on several replicas it still holds:
// the older row is pending or sending in every snapshot until its mark
// commits.
const unblocked = `NOT EXISTS (SELECT 1 FROM outbox p WHERE p.alarm = o.alarm AND p.channel = o.channel
	AND p.dedup_key = o.dedup_key AND p.id < o.id AND p.state IN ('pending', 'sending'))`

// The claim's selects: due pending rows in due order, and rows a crash
// left in sending past their lease. Each walks an index in order (an OR
// of the two would scan and sort every row of the channel). On
// PostgreSQL each ends with the store's SkipLocked clause.
const (
	pendingSQL = `SELECT id, kind, dedup_key, payload, state, attempts, created_at FROM outbox o
		WHERE channel = ? AND state = 'pending' AND next_attempt_at <= ? AND ` + unblocked + `
		ORDER BY next_attempt_at, id LIMIT ?`
	staleSQL = `SELECT id, kind, dedup_key, payload, state, attempts, created_at FROM outbox o
		WHERE channel = ? AND state = 'sending' AND claimed_at <= ? AND ` + unblocked + `
		ORDER BY id LIMIT ?`
)

// expireSQL marks expired, with its arguments max_age, the creation
// cut-off, the lease cut-off and the creation cut-off again, the pending
// rows and the rows a crash left in sending that are too old. SQLite
// walks an index for each half of the union; PostgreSQL, which cannot
// lock rows under a union, passes over rows another worker holds.
func expireSQL(st *store.Store) string {
	const set = `UPDATE outbox SET state = 'expired', claimed_at = NULL,
			last_error = 'expired: not delivered within notify.max_age (' || ? || ')'
				|| CASE WHEN last_error <> '' THEN '; last error: ' || last_error ELSE '' END
		WHERE id IN (`
	if st.Dialect() == "postgres" {
		return set + `SELECT id FROM outbox o WHERE (state = 'pending' AND created_at <= ?)
			OR (state = 'sending' AND claimed_at <= ? AND created_at <= ?)` + st.SkipLocked("o") + `)
		RETURNING id, channel`
	}
	return set + `SELECT id FROM outbox WHERE state = 'pending' AND created_at <= ?
			UNION ALL
			SELECT id FROM outbox WHERE state = 'sending' AND claimed_at <= ? AND created_at <= ?)
		RETURNING id, channel`
}

// freeSlots is how many more attempts channel may start now: its
// concurrency less the attempts in flight on every worker of the store,
// counted in the database. The count holds the channel's lock (LockTx)
// until the claim commits, so that workers on two replicas cannot both
// see the same free slot; this worker's finished attempts were marked
// earlier in the same transaction and count no more.
func (w *Worker) freeSlots(ctx context.Context, tx *sql.Tx, channel string, now time.Time) (int, error) {
	c := w.chans[channel]
	if err := w.st.LockTx(ctx, tx, "outbox:"+channel); err != nil {
		return 0, err
	}
	var busy int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE channel = ? AND state = 'sending' AND claimed_at > ?`,
		channel, store.Millis(now.Add(-c.lease))).Scan(&busy)
	if err != nil {
		return 0, fmt.Errorf("deliveries in flight on %s: %w", channel, err)
	}
	return c.limit - busy, nil
}

// claimStmts are the claim's selects, prepared once per transaction:
// parsing SQL is a large part of a busy worker's cost.
type claimStmts struct {
	st             *store.Store
	tx             *sql.Tx
	pending, stale *store.Stmt
}

func (cs *claimStmts) prepare(ctx context.Context, dst **store.Stmt, query string) (*store.Stmt, error) {
	if *dst == nil {
		st, err := cs.st.PrepareTx(ctx, cs.tx, query+cs.st.SkipLocked("o"))
		if err != nil {
			return nil, err
		}
		*dst = st
	}
	return *dst, nil
}

func (cs *claimStmts) close() {
	for _, st := range []*store.Stmt{cs.pending, cs.stale} {
		if st != nil {
			st.Close()
		}
	}
}

// claimChannel claims up to n due rows of one channel; with stale, rows a
// crash left in sending first.
func (w *Worker) claimChannel(ctx context.Context, cs *claimStmts, channel string, n int, now time.Time, stale bool) ([]claim, error) {
	nowMs := store.Millis(now)
	var out []claim
	if stale {
		st, err := cs.prepare(ctx, &cs.stale, staleSQL)
		if err != nil {
			return nil, err
		}
		leaseCut := nowMs - w.chans[channel].lease.Milliseconds()
		if out, err = w.claimRows(ctx, cs, st, channel, n, now, channel, leaseCut, n+len(w.held)); err != nil {
			return nil, err
		}
	}
	if len(out) < n {
		st, err := cs.prepare(ctx, &cs.pending, pendingSQL)
		if err != nil {
			return nil, err
		}
		more, err := w.claimRows(ctx, cs, st, channel, n-len(out), now, channel, nowMs, n-len(out))
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// claimRows claims up to n of the rows query selects.
func (w *Worker) claimRows(ctx context.Context, cs *claimStmts, query *store.Stmt, channel string, n int, now time.Time, args ...any) ([]claim, error) {
	rows, err := query.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	nowMs := store.Millis(now)
	var out []claim
	var bad []int64
	for rows.Next() && len(out) < n {
		var c claim
		var d Delivery
		var kind, payload, state string
		if err := rows.Scan(&d.ID, &kind, &d.DedupKey, &payload, &state, &d.Attempt, &c.createdAt); err != nil {
			rows.Close()
			return nil, err
		}
		if w.held[d.ID] {
			continue // our own attempt, still being marked
		}
		if err := json.Unmarshal([]byte(payload), &d.Message); err != nil {
			bad = append(bad, d.ID)
			continue
		}
		d.Channel, d.Kind, d.Resend = channel, Kind(kind), state == "sending"
		d.Attempt++
		c.d, c.claimedAt = &d, nowMs
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range bad {
		// A payload this dpcops cannot read can never be sent: say so
		// rather than stall the channel behind it.
		if _, err := cs.tx.ExecContext(ctx, `UPDATE outbox SET state = 'failed', last_error = 'unreadable payload' WHERE id = ?`, id); err != nil {
			return nil, err
		}
		w.log.Error("delivery has an unreadable payload: marked failed", "id", id, "channel", channel)
	}
	if len(out) == 0 {
		return nil, nil
	}
	// One statement claims them all: a round trip per row is what a
	// worker on a networked database would wait for. A row found in
	// sending (a crash's) counts a resend; SET reads the row as it was.
	args = make([]any, 0, len(out)+2)
	args = append(args, nowMs, nowMs)
	for _, c := range out {
		args = append(args, c.d.ID)
	}
	_, err = cs.tx.ExecContext(ctx, `UPDATE outbox SET state = 'sending', claimed_at = ?, attempts = attempts + 1,
		resends = resends + CASE WHEN state = 'sending' THEN 1 ELSE 0 END, first_attempt_at = coalesce(first_attempt_at, ?)
		WHERE id IN (?`+strings.Repeat(", ?", len(out)-1)+`)`, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}
