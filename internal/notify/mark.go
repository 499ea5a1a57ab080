package notify

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
)

// outcome is what a finished attempt makes of its row.
type outcome struct {
	state   string // sent, pending (retry), failed, expired
	label   string // the metric's outcome label
	next    time.Time
	lastErr string
}

// decide turns an attempt's result into the row's next state.
func (w *Worker) decide(r result, now time.Time) outcome {
	if r.err == nil {
		return outcome{state: "sent", label: OutcomeSent}
	}
	msg := w.scrub(r.c.d.Channel, r.err.Error())
	if !r.retry {
		return outcome{state: "failed", label: OutcomeFailed, lastErr: msg}
	}
	deadline := store.FromMillis(r.c.createdAt).Add(w.s.Notify.MaxAge.D())
	if w.s.Notify.MaxAge > 0 && !now.Before(deadline) {
		return outcome{state: "expired", label: OutcomeExpired,
			lastErr: fmt.Sprintf("expired: not delivered within notify.max_age (%s); last error: %s", w.s.Notify.MaxAge, msg)}
	}
	wait := r.answer.RetryAfter
	if wait <= 0 {
		wait = backoff(r.c.d.Attempt, w.s.Notify.Backoff.D(), w.s.Notify.MaxBackoff.D(), w.jitter)
	}
	next := now.Add(wait)
	if w.s.Notify.MaxAge > 0 && next.After(deadline) {
		// Due when it expires, so that expiry is recorded on time.
		next = deadline
	}
	return outcome{state: "pending", label: OutcomeRetry, next: next, lastErr: msg}
}

// markAll records the outcome of every finished attempt in one
// transaction. If it fails the results are kept and marked at the next
// pass; their rows stay held meanwhile.
func (w *Worker) markAll(ctx context.Context) error {
	if len(w.unmarked) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	var m marks
	err := w.st.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		m, err = w.markIn(ctx, tx, w.clock.Now())
		return err
	})
	if err != nil {
		return fmt.Errorf("mark deliveries: %w", err)
	}
	w.marked(m)
	return nil
}

// marks are the outcomes markIn wrote, to report once they commit.
type marks struct {
	outs []outcome
	lost []int64
}

// markIn writes the outcome of every finished attempt inside tx. The
// worker marks and claims in one transaction (one fsync for both), so
// that a busy worker pays one commit per pass, not one per delivery.
func (w *Worker) markIn(ctx context.Context, tx *sql.Tx, now time.Time) (marks, error) {
	m := marks{outs: make([]outcome, len(w.unmarked))}
	if len(w.unmarked) == 0 {
		return m, nil
	}
	// One statement prepared per transaction: parsing SQL is most of the
	// cost of a busy worker.
	stmt, err := w.st.PrepareTx(ctx, tx, markSQL)
	if err != nil {
		return marks{}, err
	}
	defer stmt.Close()
	for i, r := range w.unmarked {
		m.outs[i] = w.decide(r, now)
		n, err := markRow(ctx, stmt, r, m.outs[i], now)
		if err != nil {
			return marks{}, err
		}
		if n == 0 {
			m.lost = append(m.lost, r.c.d.ID)
		}
	}
	return m, nil
}

// marked reports the outcomes of a committed markIn and lets their rows go.
func (w *Worker) marked(m marks) {
	if len(m.outs) == 0 {
		return
	}
	for i, r := range w.unmarked {
		w.report(r, m.outs[i])
		delete(w.held, r.c.d.ID)
	}
	for _, id := range m.lost {
		w.log.Warn("delivery changed while it was being sent (retried by hand or claimed by another worker); its outcome was not recorded", "id", id)
	}
	w.unmarked = w.unmarked[:0]
}

// markSQL writes one outcome; it changes nothing if the row is no longer
// the one claimed (retried by hand, or claimed by another worker).
const markSQL = `UPDATE outbox SET state = ?1,
		next_attempt_at = CASE WHEN ?1 = 'pending' THEN ?2 ELSE next_attempt_at END,
		sent_at = CASE WHEN ?1 = 'sent' THEN ?3 ELSE sent_at END,
		status = ?4, response = ?5, last_error = ?6
	WHERE id = ?7 AND state = 'sending' AND claimed_at = ?8`

// markRow writes one outcome with stmt (markSQL) and returns the rows it
// changed: 0 if the row is no longer the one claimed.
func markRow(ctx context.Context, stmt *store.Stmt, r result, o outcome, now time.Time) (int64, error) {
	a := r.answer
	res, err := stmt.ExecContext(ctx, o.state, store.Millis(o.next), store.Millis(now), a.Status, a.Body, o.lastErr,
		r.c.d.ID, r.c.claimedAt)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// report counts and logs one recorded outcome.
func (w *Worker) report(r result, o outcome) {
	d := r.c.d
	w.m.deliveries.WithLabelValues(d.Channel, o.label).Inc()
	attrs := []any{"id", d.ID, "channel", d.Channel, "kind", d.Kind, "alarm", d.Message.Alarm, "attempt", d.Attempt, "status", r.answer.Status}
	switch o.state {
	case "sent":
		w.stats.Sent++
		w.log.Info("notification delivered", attrs...)
	case "pending":
		w.stats.Retried++
		w.log.Warn("delivery failed; will retry", append(attrs, "next_attempt", o.next, "err", o.lastErr)...)
	case "failed":
		w.stats.Failed++
		w.log.Error("delivery refused by the receiver: marked failed", append(attrs, "err", o.lastErr)...)
	case "expired":
		w.stats.Expired++
		w.log.Error("delivery expired", append(attrs, "err", o.lastErr)...)
	}
}

// scrub removes the channel's secrets from a message: the integrations
// already keep them out of their errors, and this makes sure of it.
func (w *Worker) scrub(channel, msg string) string {
	return ScrubString(msg, w.chans[channel].secrets...)
}
