package notify

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Notifier sends one delivery through one channel. It is the whole
// interface an integration implements.
//
// Notify answers retry=true when a later attempt may succeed (the receiver
// was unreachable, slow, rate-limited or failing) and retry=false with an
// error when it never will (the receiver refused the payload or the
// credentials). It records what the receiver said in d.Answer. Its errors
// never contain a secret of the channel.
type Notifier interface {
	Notify(ctx context.Context, d *Delivery) (retry bool, err error)
}

// Delivery is one attempt to deliver one message through one channel.
type Delivery struct {
	// ID is the outbox row; 0 for `dpcops notify test`.
	ID      int64
	Channel string
	Kind    Kind
	// DedupKey is stable for one alarm episode: PagerDuty's dedup_key,
	// OpsGenie's alias.
	DedupKey string
	Message  Message
	// Attempt counts the attempts, this one included.
	Attempt int
	// Resend is set when an earlier attempt was claimed and never marked,
	// as after a crash: the receiver may have this message already.
	Resend bool
	// Answer is what the receiver said; Notify sets it.
	Answer Answer
}

// Answer is a receiver's answer to one attempt.
type Answer struct {
	// Status is the HTTP or SMTP status code; 0 when no answer came.
	Status int
	// Body is the start of the answer's body, secrets removed.
	Body string
	// RetryAfter is the wait the receiver asked for (429 Retry-After).
	RetryAfter time.Duration
}

// String reads like "202 {"status":"success"}".
func (a Answer) String() string {
	if a.Status == 0 {
		return "no answer"
	}
	if a.Body == "" {
		return strconv.Itoa(a.Status)
	}
	return strconv.Itoa(a.Status) + " " + a.Body
}

// MaxAnswerBody bounds the receiver's answer kept with a delivery.
const MaxAnswerBody = 1024

// ReceiverError is a receiver's refusal or failure, with its answer.
type ReceiverError struct {
	Channel string
	Status  int
	Body    string
}

func (e *ReceiverError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("%s: receiver answered %d", e.Channel, e.Status)
	}
	return fmt.Sprintf("%s: receiver answered %d: %s", e.Channel, e.Status, e.Body)
}

// RetryableStatus reports whether an HTTP status may succeed later: 408,
// 425, 429 and the 5xx. Every other non-2xx answer (400 bad payload, 401
// and 403 bad credentials, 404 and 410 gone) will not.
func RetryableStatus(status int) bool {
	switch {
	case status == 408, status == 425, status == 429:
		return true
	case status >= 500:
		return true
	}
	return false
}

// ParseRetryAfter reads a Retry-After header: seconds, or an HTTP date
// relative to now. It returns 0 for an absent or unreadable value.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := time.Parse(time.RFC1123, v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
