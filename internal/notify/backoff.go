package notify

import (
	"math/rand/v2"
	"time"
)

// backoff is the wait after the attempt-th failed attempt: Backoff
// doubling with each attempt up to MaxBackoff, with "equal jitter" (a
// random point in the upper half of the step) so that deliveries that
// failed together do not all come back together, and never below Backoff.
func backoff(attempt int, base, maxWait time.Duration, jitter func(time.Duration) time.Duration) time.Duration {
	if base <= 0 {
		base = time.Second
	}
	if maxWait < base {
		maxWait = base
	}
	d := base
	for i := 1; i < attempt && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	half := d / 2
	d = half + jitter(d-half)
	return min(max(d, base), maxWait)
}

// randomJitter returns a random duration in [0, d].
func randomJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}
