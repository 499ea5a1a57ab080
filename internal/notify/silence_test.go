package notify_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// silence adds a checked silence on the rig's store from now for d.
func (r *rig) silence(d time.Duration, comment string, ms ...notify.Matcher) int64 {
	r.t.Helper()
	now := r.clock.Now()
	si := notify.Silence{Matchers: ms, Starts: now, Ends: now.Add(d), Comment: comment, Created: now}
	if _, err := notify.CheckSilence(r.s, si); err != nil {
		r.t.Fatal(err)
	}
	id, err := notify.AddSilence(r.ctx, r.st, si)
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

// sentTo counts the requests that reached Slack and PagerDuty.
func (r *rig) sentTo() int {
	return len(r.slack.Requests()) + len(r.pd.Requests())
}

// TestSilencedAlarmIsRecordedAndSentOnceAtItsEnd: a transition to ALARM
// under a silence reaches no receiver, but is recorded ("silenced by
// #ID", on the incident's deliveries and in notify list). When the silence
// ends with the alarm still in ALARM, the page goes out, once.
func TestSilencedAlarmIsRecordedAndSentOnceAtItsEnd(t *testing.T) {
	r := newRig(t, rigOptions{})
	id := r.silence(2*time.Hour, "monthly dbt run", notify.Matcher{Label: "alarm", Value: "Alert-ELT-Delay"})
	tr := r.transition("Alert-ELT-Delay", alarm.OK, alarm.Alarm, 1)
	r.deliver()
	if n := r.sentTo(); n != 0 {
		t.Fatalf("%d requests reached receivers under a silence", n)
	}
	recs, err := notify.DeliveriesOf(r.ctx, r.st.Reader(), []int64{tr.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 {
		t.Fatal("the silenced transition left no record")
	}
	for _, rec := range recs {
		if rec.State != "silenced" || !strings.HasPrefix(rec.LastError, "silenced by #") || !strings.Contains(rec.LastError, fmt.Sprintf("#%d", id)) {
			t.Errorf("record %+v", rec)
		}
	}
	if held := r.rows(notify.Query{State: "silenced"}); len(held) != len(recs) {
		t.Errorf("notify list --state silenced shows %d, want %d", len(held), len(recs))
	}
	// Still silenced an hour on: nothing.
	r.clock.Advance(time.Hour)
	r.deliver()
	if n := r.sentTo(); n != 0 {
		t.Fatalf("%d requests before the silence ended", n)
	}
	// The silence ends with the alarm still in ALARM: each channel is
	// told once.
	r.clock.Advance(61 * time.Minute)
	r.deliver()
	if n := len(r.pd.Requests()); n != 1 {
		t.Fatalf("PagerDuty got %d events at the silence's end, want 1", n)
	}
	if n := len(r.slack.Requests()); n != 1 {
		t.Fatalf("Slack got %d messages at the silence's end, want 1", n)
	}
	r.clock.Advance(time.Minute)
	r.deliver()
	if n := r.sentTo(); n != 2 {
		t.Fatalf("%d requests in all, want the 2 of the silence's end", n)
	}
	// The page sent at the end is resolved as any other.
	r.transition("Alert-ELT-Delay", alarm.Alarm, alarm.OK, 1)
	r.deliver()
	if inc := r.pd.Incidents(); len(inc) != 1 || !inc[0].Resolved || inc[0].Events != 1 {
		t.Errorf("PagerDuty incidents %+v, want one, paged once and resolved", inc)
	}
}

// TestAlarmResolvedUnderASilenceNeverPages: an alarm that fires and
// resolves inside a silence reaches no receiver, then or at the end.
func TestAlarmResolvedUnderASilenceNeverPages(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.silence(time.Hour, "planned maintenance", notify.Matcher{Label: "severity", Value: "critical"})
	r.transition("Alert-ELT-Delay", alarm.OK, alarm.Alarm, 1)
	r.clock.Advance(10 * time.Minute)
	r.transition("Alert-ELT-Delay", alarm.Alarm, alarm.OK, 1)
	r.clock.Advance(time.Hour)
	r.deliver()
	if n := r.sentTo(); n != 0 {
		t.Errorf("%d requests for an alarm that resolved under its silence", n)
	}
}

// TestExpiringASilenceReleasesAtOnce: expiring a silence by hand sends
// what it held, as its end would.
func TestExpiringASilenceReleasesAtOnce(t *testing.T) {
	r := newRig(t, rigOptions{})
	id := r.silence(24*time.Hour, "migration", notify.Matcher{Label: "alarm", Value: "Alert-COPY-Error"})
	r.transition("Alert-COPY-Error", alarm.OK, alarm.Alarm, 1)
	r.deliver()
	if n := len(r.og.Alerts()); n != 0 {
		t.Fatalf("OpsGenie got %d alerts under the silence", n)
	}
	if err := notify.ExpireSilence(r.ctx, r.st, id, r.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := notify.ExpireSilence(r.ctx, r.st, id, r.clock.Now()); err == nil || !strings.Contains(err.Error(), "ended already") {
		t.Errorf("expiring twice: %v", err)
	}
	r.clock.Advance(time.Minute)
	r.deliver()
	if n := len(r.og.Alerts()); n != 1 {
		t.Fatalf("OpsGenie got %d alerts after the expiry, want 1", n)
	}
}

// TestSilencesRefuseBadInput: a silence without an end, a matcher, a
// comment or a known label is refused; one that matches no alarm warns
// with the alarms it could have meant.
func TestSilencesRefuseBadInput(t *testing.T) {
	r := newRig(t, rigOptions{})
	now := r.clock.Now()
	for _, tt := range []struct {
		si   notify.Silence
		want string
	}{
		{notify.Silence{Matchers: []notify.Matcher{{"alarm", "Alert-ELT-Delay"}}, Starts: now, Comment: "x"}, "needs an end"},
		{notify.Silence{Starts: now, Ends: now.Add(time.Hour), Comment: "x"}, "needs a matcher"},
		{notify.Silence{Matchers: []notify.Matcher{{"alarm", "Alert-ELT-Delay"}}, Starts: now, Ends: now.Add(time.Hour)}, "needs --comment"},
		{notify.Silence{Matchers: []notify.Matcher{{"team", "dwh"}}, Starts: now, Ends: now.Add(time.Hour), Comment: "x"}, `label "team" is not one of alarm, severity`},
		{notify.Silence{Matchers: []notify.Matcher{{"alarm", "A"}}, Starts: now, Ends: now.Add(60 * 24 * time.Hour), Comment: "x"}, "at most 720h"},
	} {
		if _, err := notify.CheckSilence(r.s, tt.si); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: got %v, want %q", tt.si, err, tt.want)
		}
	}
	warn, err := notify.CheckSilence(r.s, notify.Silence{Matchers: []notify.Matcher{{"alarm", "Alert-ELT-Dealy"}}, Starts: now, Ends: now.Add(time.Hour), Comment: "x"})
	if err != nil || len(warn) != 1 || !strings.Contains(warn[0], "Alert-ELT-Delay") {
		t.Errorf("a typo: %v %v", warn, err)
	}
}

// inhibiting has Alert-ELT-Delay hold back Alert-COPY-Error's pages.
func inhibiting(y string) string {
	return strings.Replace(y, "notify: {max_age: 1h, backoff: 1s, max_backoff: 1m}",
		"notify: {max_age: 1h, backoff: 1s, max_backoff: 1m, inhibit: [{source: [Alert-ELT-Delay], target: [Alert-COPY-*]}]}", 1)
}

// TestInhibitedAlarmWaitsForItsInhibitor: while its inhibitor is in
// ALARM, an inhibited alarm's page is recorded ("inhibited by") but not
// sent; when the inhibitor resolves and the alarm still fires, the page
// goes out then, once.
func TestInhibitedAlarmWaitsForItsInhibitor(t *testing.T) {
	r := newRig(t, rigOptions{edit: inhibiting})
	r.transition("Alert-ELT-Delay", alarm.OK, alarm.Alarm, 1)
	tr := r.transition("Alert-COPY-Error", alarm.OK, alarm.Alarm, 1)
	r.deliver()
	if n := len(r.og.Alerts()); n != 0 {
		t.Fatalf("OpsGenie got %d alerts while the inhibitor fired", n)
	}
	if n := len(r.pd.Requests()); n != 1 {
		t.Fatalf("the inhibitor itself pages: PagerDuty got %d", n)
	}
	recs, err := notify.DeliveriesOf(r.ctx, r.st.Reader(), []int64{tr.ID})
	if err != nil || len(recs) == 0 {
		t.Fatalf("records %v %v", recs, err)
	}
	for _, rec := range recs {
		if rec.State != "inhibited" || rec.LastError != "inhibited by Alert-ELT-Delay" {
			t.Errorf("record %+v", rec)
		}
	}
	r.clock.Advance(time.Minute)
	r.transition("Alert-ELT-Delay", alarm.Alarm, alarm.OK, 1)
	r.deliver()
	// Not at the inhibitor's first OK: it might flap. After one of its
	// periods (5m) out of ALARM, the page goes, once.
	r.clock.Advance(time.Minute)
	r.deliver()
	if n := len(r.og.Alerts()); n != 0 {
		t.Fatalf("OpsGenie got %d alerts a minute after the inhibitor resolved", n)
	}
	r.clock.Advance(5 * time.Minute)
	r.deliver()
	r.clock.Advance(time.Minute)
	r.deliver()
	if n := len(r.og.Alerts()); n != 1 {
		t.Fatalf("OpsGenie got %d alerts after the inhibitor resolved, want 1", n)
	}
}

// TestDisabledInhibitorHoldsNothing: an inhibit source that is off keeps
// the last state the engine gave it, ALARM perhaps, for ever: it holds
// nothing back, and what it held goes.
func TestDisabledInhibitorHoldsNothing(t *testing.T) {
	r := newRig(t, rigOptions{edit: inhibiting})
	r.transition("Alert-ELT-Delay", alarm.OK, alarm.Alarm, 1)
	r.transition("Alert-COPY-Error", alarm.OK, alarm.Alarm, 1)
	r.deliver()
	if n := len(r.og.Alerts()); n != 0 {
		t.Fatalf("OpsGenie got %d alerts while the inhibitor fired", n)
	}
	// The same store under a spec in which the source is off.
	a, _ := r.s.Alarm("Alert-ELT-Delay")
	a.Enabled = spec.NewEnabled(spec.EnabledFalse)
	r.clock.Advance(time.Minute)
	r.deliver()
	if n := len(r.og.Alerts()); n != 1 {
		t.Fatalf("OpsGenie got %d alerts once the inhibitor was off, want 1", n)
	}
}

// TestInhibitedAlarmResolvedFirstNeverPages: an inhibited alarm that
// resolves while its inhibitor fires is never paged.
func TestInhibitedAlarmResolvedFirstNeverPages(t *testing.T) {
	r := newRig(t, rigOptions{edit: inhibiting})
	r.transition("Alert-ELT-Delay", alarm.OK, alarm.Alarm, 1)
	r.transition("Alert-COPY-Error", alarm.OK, alarm.Alarm, 1)
	r.clock.Advance(time.Minute)
	r.transition("Alert-COPY-Error", alarm.Alarm, alarm.OK, 1)
	r.transition("Alert-ELT-Delay", alarm.Alarm, alarm.OK, 1)
	r.clock.Advance(time.Minute)
	r.deliver()
	if n := len(r.og.Alerts()); n != 0 {
		t.Errorf("OpsGenie got %d alerts for an alarm that resolved under its inhibitor", n)
	}
	if held := r.rows(notify.Query{State: "inhibited"}); len(held) == 0 || !strings.Contains(held[0].LastError, "dropped at its end") {
		t.Errorf("held %+v", held)
	}
}

// TestPruneSilences: settled held notifications and ended silences older
// than the cut go, the newest of each stays, and a silence that still
// holds a notification stays.
func TestPruneSilences(t *testing.T) {
	r := newRig(t, rigOptions{})
	old := r.silence(time.Hour, "old", notify.Matcher{Label: "alarm", Value: "Alert-ELT-Delay"})
	r.transition("Alert-ELT-Delay", alarm.OK, alarm.Alarm, 1)
	r.clock.Advance(10 * time.Minute)
	r.transition("Alert-ELT-Delay", alarm.Alarm, alarm.OK, 1)
	r.clock.Advance(2 * time.Hour)
	r.deliver() // the held trigger is dropped: its silence ended, its alarm resolved
	holding := r.silence(time.Hour, "holding", notify.Matcher{Label: "alarm", Value: "Alert-COPY-Error"})
	r.transition("Alert-COPY-Error", alarm.OK, alarm.Alarm, 1)
	newest := r.silence(time.Minute, "newest", notify.Matcher{Label: "alarm", Value: "Alert-RPU-Spike"})
	r.clock.Advance(time.Hour)
	if _, err := notify.PruneSilences(r.ctx, r.st, r.clock.Now(), func(string, time.Time) bool { return false }); err != nil {
		t.Fatal(err)
	}
	ss, err := notify.Silences(r.ctx, r.st.Reader(), r.clock.Now(), false)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, s := range ss {
		ids = append(ids, s.ID)
	}
	if slices.Contains(ids, old) || !slices.Contains(ids, holding) || !slices.Contains(ids, newest) {
		t.Errorf("silences left %v: want %d gone, %d (holding) and %d (newest) kept", ids, old, holding, newest)
	}
}
