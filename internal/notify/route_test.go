package notify_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/notify"
)

const (
	ok    = alarm.OK
	alm   = alarm.Alarm
	insuf = alarm.InsufficientData
)

func TestTriggerRoutesByTopicAndFilter(t *testing.T) {
	r := newRig(t, rigOptions{})
	tests := []struct {
		alarm string
		want  []string
	}{
		{"Alert-ELT-Delay", []string{"inbox", "slack", "pagerduty"}},
		{"Alert-COPY-Error", []string{"inbox", "slack", "opsgenie"}},
		{"Alert-Storage-High", []string{"inbox", "slack", "email"}},
		{"Alert-RPU-Spike", []string{"inbox", "slack", "hook", "sns"}},
	}
	for _, tt := range tests {
		r.transition(tt.alarm, ok, alm, 1)
		var got []string
		for _, rec := range r.rows(notify.Query{Alarm: tt.alarm}) {
			got = append(got, rec.Channel)
			if rec.Kind != "trigger" || rec.DedupKey != key(tt.alarm, 1) || rec.State != "pending" || !rec.Created.Equal(t0) {
				t.Errorf("%s: row %+v", tt.alarm, rec)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s goes to %v, want %v", tt.alarm, got, tt.want)
		}
	}
	if n := r.logs.count(`"msg":"channel is off: its notifications are not enqueued","channel":"off"`); n != 1 {
		t.Errorf("the channel that is off is logged %d times, want once:\n%s", n, r.logs)
	}
}

func TestReturnToOK(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
		want  []string // the rows of the last step
	}{
		{
			name:  "PagerDuty resolves, Slack and inbox get an OK message",
			steps: []step{{"Alert-ELT-Delay", ok, alm, 1}, {"Alert-ELT-Delay", alm, ok, 1}},
			want: []string{"inbox:resolve:" + key("Alert-ELT-Delay", 1), "slack:resolve:" + key("Alert-ELT-Delay", 1),
				"pagerduty:resolve:" + key("Alert-ELT-Delay", 1)},
		},
		{
			name:  "OpsGenie closes",
			steps: []step{{"Alert-COPY-Error", ok, alm, 1}, {"Alert-COPY-Error", alm, ok, 1}},
			want: []string{"inbox:resolve:" + key("Alert-COPY-Error", 1), "slack:resolve:" + key("Alert-COPY-Error", 1),
				"opsgenie:resolve:" + key("Alert-COPY-Error", 1)},
		},
		{
			name:  "send_resolved: false keeps email quiet",
			steps: []step{{"Alert-Storage-High", ok, alm, 1}, {"Alert-Storage-High", alm, ok, 1}},
			want:  []string{"inbox:resolve:" + key("Alert-Storage-High", 1), "slack:resolve:" + key("Alert-Storage-High", 1)},
		},
		{
			name:  "OK with no episode announced (start-up) owes nothing",
			steps: []step{{"Alert-COPY-Error", insuf, ok, 0}},
			want:  nil,
		},
		{
			name: "an episode interrupted by missing data is resolved with the next",
			steps: []step{{"Alert-ELT-Delay", ok, alm, 1}, {"Alert-ELT-Delay", alm, insuf, 1}, {"Alert-ELT-Delay", insuf, alm, 2},
				{"Alert-ELT-Delay", alm, ok, 2}},
			want: []string{"inbox:resolve:" + key("Alert-ELT-Delay", 2), "slack:resolve:" + key("Alert-ELT-Delay", 2),
				"pagerduty:resolve:" + key("Alert-ELT-Delay", 1), "pagerduty:resolve:" + key("Alert-ELT-Delay", 2)},
		},
		{
			name:  "an episode that goes on through missing data pages once",
			steps: []step{{"Alert-ELT-Delay", ok, alm, 1}, {"Alert-ELT-Delay", alm, insuf, 1}, {"Alert-ELT-Delay", insuf, alm, 1}},
			want:  nil,
		},
		{
			name: "and resolves once",
			steps: []step{{"Alert-ELT-Delay", ok, alm, 1}, {"Alert-ELT-Delay", alm, insuf, 1}, {"Alert-ELT-Delay", insuf, alm, 1},
				{"Alert-ELT-Delay", alm, ok, 1}},
			want: []string{"inbox:resolve:" + key("Alert-ELT-Delay", 1), "slack:resolve:" + key("Alert-ELT-Delay", 1),
				"pagerduty:resolve:" + key("Alert-ELT-Delay", 1)},
		},
		{
			name:  "INSUFFICIENT_DATA only to subscriptions that ask for it",
			steps: []step{{"Alert-RPU-Spike", ok, alm, 1}, {"Alert-RPU-Spike", alm, insuf, 1}},
			want:  []string{"hook:notice:" + key("Alert-RPU-Spike", 1)},
		},
		{
			name:  "INSUFFICIENT_DATA never pages nor closes a page",
			steps: []step{{"Alert-ELT-Delay", ok, alm, 1}, {"Alert-ELT-Delay", alm, insuf, 1}},
			want:  nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, rigOptions{})
			var before int
			for _, s := range tt.steps {
				before = len(r.rows(notify.Query{}))
				r.transition(s.alarm, s.from, s.to, s.episode)
			}
			got := routed(r.rows(notify.Query{})[before:])
			if !slices.Equal(got, tt.want) {
				t.Errorf("rows\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

type step struct {
	alarm    string
	from, to alarm.State
	episode  int64
}

func TestRowsCommitOnlyWithTheTransition(t *testing.T) {
	r := newRig(t, rigOptions{})
	boom := errors.New("the transition's transaction fails after the hook")
	err := r.st.WriteTx(r.ctx, func(tx *sql.Tx) error {
		tr := alarm.Transition{Alarm: "Alert-COPY-Error", Time: t0, From: ok, To: alm, Episode: 1}
		if err := r.outbox.OnTransition(r.ctx, tx, tr); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if rows := r.rows(notify.Query{}); len(rows) != 0 {
		t.Errorf("rows of a rolled-back transition: %v", routed(rows))
	}
	if st := r.deliver(); st.Sent != 0 || r.slack.Count() != 0 {
		t.Errorf("something was sent for a transition that never happened: %+v", st)
	}
}

func TestUnknownAlarmOwesNothing(t *testing.T) {
	r := newRig(t, rigOptions{})
	err := r.st.WriteTx(r.ctx, func(tx *sql.Tx) error {
		return r.outbox.OnTransition(context.Background(), tx, alarm.Transition{Alarm: "Removed-Alarm", To: alm, Episode: 1})
	})
	if err != nil || len(r.rows(notify.Query{})) != 0 {
		t.Errorf("err %v, rows %v", err, r.rows(notify.Query{}))
	}
}

func TestDedupKeyStaysWithinPagerDutysLimit(t *testing.T) {
	r := newRig(t, rigOptions{})
	long := strings.Repeat("Alert-", 60)
	k1, k2 := notify.DedupKey(r.s, long, 1), notify.DedupKey(r.s, long, 2)
	if len(k1) > 255 || k1 == k2 || k1 != notify.DedupKey(r.s, long, 1) {
		t.Errorf("keys %q / %q: want ≤ 255 bytes, stable, distinct per episode", k1, k2)
	}
	if got := notify.DedupKey(r.s, "Alert-COPY-Error", 7); got != "dpcops:dpc-learning:prod:Alert-COPY-Error:7" {
		t.Errorf("key %q", got)
	}
}
