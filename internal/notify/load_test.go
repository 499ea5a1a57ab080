package notify_test

import (
	"testing"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/inbox"
)

// TestThousandTransitionsAtOnce commits 1 000 transitions of the COPY
// alarm (500 episodes, each entering ALARM and back to OK) before the
// worker runs: 3 000 deliveries, every one made exactly once.
func TestThousandTransitionsAtOnce(t *testing.T) {
	r := newRig(t, rigOptions{})
	for ep := int64(1); ep <= 500; ep++ {
		r.transition("Alert-COPY-Error", ok, alm, ep)
		r.transition("Alert-COPY-Error", alm, ok, ep)
	}
	st := r.deliver()
	if st.Sent != 3000 || st.Retried+st.Failed+st.Expired+st.Resent != 0 {
		t.Fatalf("stats %+v, want 3000 sent", st)
	}
	if pending := r.rows(notify.Query{State: "pending"}); len(pending) != 0 {
		t.Errorf("%d rows still pending", len(pending))
	}
	// Slack: one trigger and one OK message per episode, no duplicate.
	seen := map[string]int{}
	for _, req := range r.slack.Requests() {
		seen[string(req.Body)]++
	}
	if r.slack.Count() != 1000 {
		t.Errorf("slack got %d, want 1000", r.slack.Count())
	}
	for body, n := range seen {
		if n > 1 {
			t.Errorf("slack got a message %d times: %.100s", n, body)
		}
	}
	// OpsGenie: 500 alerts, one per episode's alias, each closed after it
	// was created (a close that overtook its create would leave it open).
	al := r.og.Alerts()
	aliases := map[string]bool{}
	for _, a := range al {
		aliases[a.Alias] = true
		if a.Count != 1 || !a.Closed {
			t.Errorf("alert %+v", a)
		}
	}
	for ep := 1; ep <= 500; ep++ {
		if !aliases[key("Alert-COPY-Error", ep)] {
			t.Errorf("no alert for episode %d", ep)
		}
	}
	if len(al) != 500 {
		t.Errorf("%d opsgenie alerts, want 500", len(al))
	}
	items, err := inbox.List(r.ctx, r.st.Reader(), inbox.Query{Limit: 5000})
	if err != nil || len(items) != 1000 {
		t.Errorf("inbox %d (%v)", len(items), err)
	}
}
