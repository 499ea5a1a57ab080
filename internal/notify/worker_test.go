package notify_test

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/inbox"
	"github.com/dpc-learning/dpcops/internal/notify/notifytest"
)

func TestEveryChannelReceivesWhatItIsOwed(t *testing.T) {
	r := newRig(t, rigOptions{})
	for _, a := range []string{"Alert-ELT-Delay", "Alert-COPY-Error", "Alert-Storage-High", "Alert-RPU-Spike"} {
		r.transition(a, ok, alm, 1)
	}
	st := r.deliver()
	if st.Sent != 13 || st.Retried+st.Failed+st.Expired+st.Resent != 0 {
		t.Fatalf("stats %+v, want 13 sent", st)
	}
	for _, rec := range r.rows(notify.Query{}) {
		if rec.State != "sent" || rec.Attempts != 1 || rec.Status < 200 || rec.Status > 299 || rec.Sent.IsZero() {
			t.Errorf("row %+v", rec)
		}
	}
	if n := r.slack.Count(); n != 4 {
		t.Errorf("slack got %d messages, want 4", n)
	}
	if inc := r.pd.Incidents(); len(inc) != 1 || inc[0].DedupKey != key("Alert-ELT-Delay", 1) || inc[0].Resolved {
		t.Errorf("pagerduty incidents %+v", inc)
	}
	if al := r.og.Alerts(); len(al) != 1 || al[0].Alias != key("Alert-COPY-Error", 1) || al[0].Priority != "P1" {
		t.Errorf("opsgenie alerts %+v", al)
	}
	if m := r.smtp.Mails(); len(m) != 1 || !strings.Contains(string(m[0].Data), "Alert-Storage-High") || !m[0].TLS {
		t.Errorf("mails %+v", m)
	}
	if n := r.hook.Count(); n != 1 {
		t.Errorf("webhook got %d", n)
	}
	if p := r.sns.Published(); len(p) != 1 || p[0].Attributes["alarm"] != "Alert-RPU-Spike" {
		t.Errorf("sns %+v", p)
	}
	items, err := inbox.List(r.ctx, r.st.Reader(), inbox.Query{})
	if err != nil || len(items) != 4 {
		t.Errorf("inbox %d items (%v)", len(items), err)
	}

	// Back to OK: PagerDuty resolves, OpsGenie closes by alias.
	r.transition("Alert-ELT-Delay", alm, ok, 1)
	r.transition("Alert-COPY-Error", alm, ok, 1)
	r.deliver()
	if inc := r.pd.Incidents(); !inc[0].Resolved {
		t.Errorf("pagerduty incident not resolved: %+v", inc)
	}
	if al := r.og.Alerts(); !al[0].Closed {
		t.Errorf("opsgenie alert not closed: %+v", al)
	}
	if got := testutil.ToFloat64(r.worker.Metrics().Deliveries.WithLabelValues("slack", notify.OutcomeSent)); got != 6 {
		t.Errorf("dpcops_notify_deliveries_total{slack,sent} = %v, want 6", got)
	}
}

func TestReceiverDownThenBack(t *testing.T) {
	addr := notifytest.FreeAddr(t)
	r := newRig(t, rigOptions{pdAddr: addr})
	r.transition("Alert-ELT-Delay", ok, alm, 1)
	// Backoff 1s doubling to 1m; the rig's jitter takes the whole step.
	for i, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if st := r.deliver(); st.Retried != 1 {
			t.Fatalf("attempt %d: %+v", i+1, st)
		}
		rec := r.row("pagerduty")
		if rec.State != "pending" || rec.Attempts != i+1 || !rec.NextAt.Equal(r.clock.Now().Add(wait)) ||
			!strings.Contains(rec.LastError, "connection refused") {
			t.Fatalf("after attempt %d: %+v, want next attempt in %v", i+1, rec, wait)
		}
		// Not due yet: nothing is attempted.
		r.clock.Advance(wait - time.Millisecond)
		if st := r.deliver(); st != (notify.Stats{}) {
			t.Fatalf("attempted before the backoff ended: %+v", st)
		}
		r.clock.Advance(time.Millisecond)
	}
	pd, err := notifytest.NewPagerDutyAt(t, addr, pdKey)
	if err != nil {
		t.Fatalf("restart the receiver at %s: %v", addr, err)
	}
	if st := r.deliver(); st.Sent != 1 {
		t.Fatalf("receiver back: %+v", st)
	}
	if rec := r.row("pagerduty"); rec.State != "sent" || rec.Attempts != 4 || rec.Status != 202 || rec.LastError != "" {
		t.Errorf("row %+v", rec)
	}
	if inc := pd.Incidents(); len(inc) != 1 || inc[0].Events != 1 {
		t.Errorf("incidents %+v", inc)
	}
}

func TestServerErrorsAreRetried(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.slack.SetRespond(func(_ notifytest.Request, n int) notifytest.Reply {
		if n <= 2 {
			return notifytest.Reply{Status: 500, Body: "internal error"}
		}
		return notifytest.Reply{Status: 200, Body: "ok"}
	})
	r.transition("Alert-COPY-Error", ok, alm, 1)
	r.deliver()
	if rec := r.row("slack"); rec.State != "pending" || rec.Status != 500 || rec.Response != "internal error" {
		t.Fatalf("after a 500: %+v", rec)
	}
	r.clock.Advance(time.Second)
	r.deliver()
	r.clock.Advance(2 * time.Second)
	r.deliver()
	if rec := r.row("slack"); rec.State != "sent" || rec.Attempts != 3 {
		t.Errorf("row %+v", rec)
	}
	m := r.worker.Metrics()
	if got := testutil.ToFloat64(m.Deliveries.WithLabelValues("slack", notify.OutcomeRetry)); got != 2 {
		t.Errorf("retries counted %v, want 2", got)
	}
}

func TestTooManyRequestsHonoursRetryAfter(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.slack.SetRespond(func(_ notifytest.Request, n int) notifytest.Reply {
		if n == 1 {
			return notifytest.Reply{Status: 429, Header: map[string]string{"Retry-After": "30"}, Body: "rate_limited"}
		}
		return notifytest.Reply{Status: 200, Body: "ok"}
	})
	r.transition("Alert-COPY-Error", ok, alm, 1)
	r.deliver()
	if rec := r.row("slack"); rec.State != "pending" || !rec.NextAt.Equal(t0.Add(30*time.Second)) || rec.Status != 429 {
		t.Fatalf("after 429 Retry-After: 30: %+v (backoff alone would say 1s)", rec)
	}
	r.clock.Advance(29 * time.Second)
	if st := r.deliver(); st != (notify.Stats{}) || r.slack.Count() != 1 {
		t.Fatalf("attempted before Retry-After: %+v", st)
	}
	r.clock.Advance(time.Second)
	if st := r.deliver(); st.Sent != 1 {
		t.Fatalf("after Retry-After: %+v", st)
	}
}

func TestRefusalsFailWithTheReceiversAnswer(t *testing.T) {
	tests := []struct {
		status int
		body   string
	}{
		{400, "invalid_payload"},
		{403, "action_prohibited"},
		{404, "channel_not_found"},
		{410, "channel_is_archived"},
	}
	for _, tt := range tests {
		r := newRig(t, rigOptions{})
		r.slack.SetRespond(notifytest.Always(tt.status, tt.body))
		r.transition("Alert-COPY-Error", ok, alm, 1)
		if st := r.deliver(); st.Failed != 1 {
			t.Fatalf("%d: %+v", tt.status, st)
		}
		rec := r.row("slack")
		if rec.State != "failed" || rec.Status != tt.status || rec.Response != tt.body || !strings.Contains(rec.LastError, tt.body) {
			t.Errorf("%d: row %+v", tt.status, rec)
		}
		r.clock.Advance(24 * time.Hour)
		if r.deliver(); r.slack.Count() != 1 {
			t.Errorf("%d: a refused delivery was tried again (%d requests)", tt.status, r.slack.Count())
		}
		if failed := r.rows(notify.Query{State: "failed"}); len(failed) != 1 {
			t.Errorf("%d: failed rows %v", tt.status, routed(failed))
		}
		// Fixed on the receiver's side, then retried by hand.
		r.slack.SetRespond(notifytest.Always(200, "ok"))
		if err := r.worker.Retry(r.ctx, rec.ID); err != nil {
			t.Fatal(err)
		}
		if st := r.deliver(); st.Sent != 1 || r.row("slack").State != "sent" {
			t.Errorf("%d: after retry: %+v", tt.status, st)
		}
		if err := r.worker.Retry(r.ctx, rec.ID); err == nil {
			t.Errorf("%d: a sent delivery must not be retried", tt.status)
		}
	}
}

func TestSlowerThanTheTimeout(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.slack.SetRespond(func(_ notifytest.Request, n int) notifytest.Reply {
		if n == 1 {
			return notifytest.Reply{Status: 200, Body: "ok", Delay: time.Minute}
		}
		return notifytest.Reply{Status: 200, Body: "ok"}
	})
	r.transition("Alert-COPY-Error", ok, alm, 1)
	r.deliver() // the slack channel's timeout is 400ms
	if rec := r.row("slack"); rec.State != "pending" || !strings.Contains(rec.LastError, "timed out") {
		t.Fatalf("after a slow answer: %+v", rec)
	}
	r.clock.Advance(time.Second)
	if st := r.deliver(); st.Sent != 1 {
		t.Fatalf("%+v", st)
	}
}

func TestUndeliverableRowsExpire(t *testing.T) {
	r := newRig(t, rigOptions{edit: func(y string) string { return strings.Replace(y, ", repeat_interval: 1h", "", 1) }})
	r.pd.SetDown(http.StatusServiceUnavailable)
	r.transition("Alert-ELT-Delay", ok, alm, 1)
	for r.clock.Now().Before(t0.Add(2 * time.Hour)) {
		r.deliver()
		r.clock.Advance(time.Minute)
	}
	rec := r.row("pagerduty")
	if rec.State != "expired" || !strings.Contains(rec.LastError, "notify.max_age (1h)") || !strings.Contains(rec.LastError, "503") {
		t.Errorf("row %+v", rec)
	}
	// Backoff reaches 1m; the last attempt is made before the hour ends.
	if got := r.pd.Count(); got < 60 || got > 70 {
		t.Errorf("%d attempts in the hour", got)
	}
	if got := testutil.ToFloat64(r.worker.Metrics().Deliveries.WithLabelValues("pagerduty", notify.OutcomeExpired)); got != 1 {
		t.Errorf("expired counted %v", got)
	}
	if err := r.worker.Retry(r.ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	r.pd.SetDown(0)
	if st := r.deliver(); st.Sent != 1 {
		t.Errorf("an expired delivery retried by hand: %+v", st)
	}
}

func TestRepeatWhileInAlarm(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.transition("Alert-ELT-Delay", ok, alm, 1)
	r.deliver()
	r.clock.Advance(59 * time.Minute)
	r.deliver()
	if n := len(r.rows(notify.Query{Alarm: "Alert-ELT-Delay"})); n != 3 {
		t.Fatalf("repeated before repeat_interval: %d rows", n)
	}
	r.clock.Advance(time.Minute)
	r.deliver()
	repeats := r.rows(notify.Query{Alarm: "Alert-ELT-Delay"})[3:]
	want := []string{"inbox:repeat:" + key("Alert-ELT-Delay", 1), "slack:repeat:" + key("Alert-ELT-Delay", 1), "pagerduty:repeat:" + key("Alert-ELT-Delay", 1)}
	if got := routed(repeats); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("repeats %v, want %v", got, want)
	}
	if inc := r.pd.Incidents(); len(inc) != 1 || inc[0].Events != 2 {
		t.Errorf("the repeat must fold into the open incident: %+v", inc)
	}
	// Once resolved, no more repeats.
	r.transition("Alert-ELT-Delay", alm, ok, 1)
	r.deliver()
	r.clock.Advance(3 * time.Hour)
	r.deliver()
	if rows := r.rows(notify.Query{Alarm: "Alert-ELT-Delay", Channel: "pagerduty"}); len(rows) != 3 || rows[2].Kind != "resolve" {
		t.Errorf("pagerduty rows after the resolve: %v", routed(rows))
	}
	if inc := r.pd.Incidents(); !inc[0].Resolved {
		t.Errorf("incident %+v", inc)
	}
}

func TestRestartResumesPendingDeliveries(t *testing.T) {
	dir := t.TempDir()
	r := newRig(t, rigOptions{dir: dir})
	r.transition("Alert-COPY-Error", ok, alm, 1)
	r.st.Close()
	// A new process over the same store: the rows are still owed.
	r2 := newRig(t, rigOptions{dir: dir})
	if st := r2.deliver(); st.Sent != 3 {
		t.Fatalf("after a restart: %+v", st)
	}
	if r2.slack.Count() != 1 || len(r2.og.Alerts()) != 1 {
		t.Errorf("slack %d, opsgenie %+v", r2.slack.Count(), r2.og.Alerts())
	}
}

func TestConcurrencyLimitPerChannel(t *testing.T) {
	r := newRig(t, rigOptions{edit: func(y string) string { return strings.Replace(y, "timeout: 400ms", "timeout: 1m", 1) }})
	release := make(chan struct{})
	arrived := make(chan struct{}, 100)
	var mu sync.Mutex
	cur, most := 0, 0
	r.slack.SetRespond(func(notifytest.Request, int) notifytest.Reply {
		mu.Lock()
		cur++
		most = max(most, cur)
		mu.Unlock()
		arrived <- struct{}{}
		<-release
		mu.Lock()
		cur--
		mu.Unlock()
		return notifytest.Reply{Status: 200, Body: "ok"}
	})
	// Six episodes, so that no attempt waits for another of its episode.
	for ep := int64(1); ep <= 6; ep++ {
		r.transition("Alert-COPY-Error", ok, alm, ep)
	}
	done := make(chan notify.Stats)
	go func() { done <- r.deliver() }()
	// Let two attempts be in flight (the limit) before releasing one.
	in, released := 0, 0
	for released < 6 {
		if in-released < 2 && in < 6 {
			select {
			case <-arrived:
			case st := <-done:
				close(release)
				t.Fatalf("deliver returned %+v with %d of 6 slack attempts made", st, in)
			}
			in++
			continue
		}
		release <- struct{}{}
		released++
	}
	if st := <-done; st.Sent != 18 {
		t.Errorf("%+v", st)
	}
	if most != 2 {
		t.Errorf("at most %d slack attempts were in flight; want the channel's concurrency, 2", most)
	}
}

func TestQueueDepthMetric(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.slack.SetRespond(notifytest.Always(410, "channel_is_archived"))
	r.transition("Alert-COPY-Error", ok, alm, 1)
	want := `
# HELP dpcops_notify_queue_depth Outbox rows by channel and state: pending (waiting for an attempt), sending (in flight, or claimed before a crash), failed (refused; dpcops notify retry puts one back).
# TYPE dpcops_notify_queue_depth gauge
dpcops_notify_queue_depth{channel="inbox",state="pending"} 1
dpcops_notify_queue_depth{channel="opsgenie",state="pending"} 1
dpcops_notify_queue_depth{channel="slack",state="pending"} 1
`
	if err := testutil.GatherAndCompare(r.reg, strings.NewReader(want), "dpcops_notify_queue_depth"); err != nil {
		t.Error(err)
	}
	r.deliver()
	want = `
# HELP dpcops_notify_queue_depth Outbox rows by channel and state: pending (waiting for an attempt), sending (in flight, or claimed before a crash), failed (refused; dpcops notify retry puts one back).
# TYPE dpcops_notify_queue_depth gauge
dpcops_notify_queue_depth{channel="slack",state="failed"} 1
`
	if err := testutil.GatherAndCompare(r.reg, strings.NewReader(want), "dpcops_notify_queue_depth"); err != nil {
		t.Error(err)
	}
}

// TestRunIsWokenByTheCommit: a worker idle on its poll wait delivers as
// soon as a transition commits, without waiting for the poll.
func TestRunIsWokenByTheCommit(t *testing.T) {
	r := newRig(t, rigOptions{})
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan error)
	go func() { done <- r.worker.Run(ctx) }()
	// Commit only once Run has found nothing and waits on its clock.
	for r.clock.Waiters() == 0 {
		runtime.Gosched()
	}
	r.transition("Alert-COPY-Error", ok, alm, 1)
	// The clock does not move: only the outbox's kick can wake the worker.
	wait, stop := context.WithTimeout(r.ctx, 10*time.Second)
	defer stop()
	if !r.og.WaitAnswered(wait, 1) || !r.slack.WaitAnswered(wait, 1) {
		t.Fatalf("the kick did not wake the worker:\n%s", r.logs)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Run marks what it sent before it returns.
	for _, rec := range r.rows(notify.Query{}) {
		if rec.State != "sent" {
			t.Errorf("after Run returned: %+v", rec)
		}
	}
}

func TestResolveNeverOvertakesItsTrigger(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.pd.SetDown(http.StatusServiceUnavailable)
	r.transition("Alert-ELT-Delay", ok, alm, 1)
	r.transition("Alert-ELT-Delay", alm, ok, 1)
	r.deliver()
	if n := r.pd.Count(); n != 1 {
		t.Fatalf("%d PagerDuty requests while the trigger is unsent, want 1 (the resolve waits)", n)
	}
	r.pd.SetDown(0)
	r.clock.Advance(time.Second)
	r.deliver()
	if inc := r.pd.Incidents(); len(inc) != 1 || !inc[0].Resolved {
		t.Errorf("incidents %+v: the trigger, then its resolve", inc)
	}
}
