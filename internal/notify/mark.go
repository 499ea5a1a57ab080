package notify

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
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
// transaction (one fsync for many deliveries). If it fails the results
// are kept and marked at the next pass; their rows stay held meanwhile.
func (w *Worker) markAll(ctx context.Context) error {
	if len(w.unmarked) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	now := w.clock.Now()
	outs := make([]outcome, len(w.unmarked))
	var lost []int64
	err := w.st.WriteTx(ctx, func(tx *sql.Tx) error {
		lost = lost[:0]
		for i, r := range w.unmarked {
			outs[i] = w.decide(r, now)
			n, err := markRow(ctx, tx, r, outs[i], now)
			if err != nil {
				return err
			}
			if n == 0 {
				lost = append(lost, r.c.d.ID)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark deliveries: %w", err)
	}
	for i, r := range w.unmarked {
		w.report(r, outs[i])
		delete(w.held, r.c.d.ID)
	}
	for _, id := range lost {
		w.log.Warn("delivery changed while it was being sent (retried by hand or claimed by another worker); its outcome was not recorded", "id", id)
	}
	w.unmarked = w.unmarked[:0]
	return nil
}

// markRow writes one outcome; it changes nothing (and returns 0) if the
// row is no longer the one claimed.
func markRow(ctx context.Context, tx *sql.Tx, r result, o outcome, now time.Time) (int64, error) {
	var res sql.Result
	var err error
	a := r.answer
	switch o.state {
	case "sent":
		res, err = tx.ExecContext(ctx, `UPDATE outbox SET state = 'sent', sent_at = ?, status = ?, response = ?, last_error = ''
			WHERE id = ? AND state = 'sending' AND claimed_at = ?`, store.Millis(now), a.Status, a.Body, r.c.d.ID, r.c.claimedAt)
	case "pending":
		res, err = tx.ExecContext(ctx, `UPDATE outbox SET state = 'pending', next_attempt_at = ?, status = ?, response = ?, last_error = ?
			WHERE id = ? AND state = 'sending' AND claimed_at = ?`, store.Millis(o.next), a.Status, a.Body, o.lastErr, r.c.d.ID, r.c.claimedAt)
	default:
		res, err = tx.ExecContext(ctx, `UPDATE outbox SET state = ?, status = ?, response = ?, last_error = ?
			WHERE id = ? AND state = 'sending' AND claimed_at = ?`, o.state, a.Status, a.Body, o.lastErr, r.c.d.ID, r.c.claimedAt)
	}
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
	ch, ok := w.s.Channel(channel)
	if !ok {
		return msg
	}
	return ScrubString(msg, ChannelSecrets(ch)...)
}

// ChannelSecrets lists the secret values of a channel, for scrubbing. A
// secret URL also yields its path, query and user info: a receiver that
// echoes its request line shows the path without the host.
func ChannelSecrets(ch *spec.Channel) []string {
	var out []string
	for _, s := range []spec.Secret{ch.WebhookURL, ch.URL, ch.RoutingKey, ch.APIKey, ch.Password, ch.Secret} {
		if !s.IsSet() {
			continue
		}
		out = append(out, s.Reveal())
		if u, err := url.Parse(s.Reveal()); err == nil && u.Scheme != "" {
			out = append(out, u.Path, u.RawQuery)
			if u.User != nil {
				out = append(out, u.User.String())
			}
		}
	}
	return out
}
