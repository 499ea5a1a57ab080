package notify

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// KindQuery is a query monitoring rule's report on a query it logged,
// notified or aborted.
const KindQuery Kind = "query"

// QueryEvent is what a query monitoring rule did, to notify.
type QueryEvent struct {
	// Rule names the rule; the message's alarm is "QMR <rule>".
	Rule   string
	Topics []string
	// ID identifies the action (qmr_actions.id): with the rule it is the
	// dedup key, so a resend after a crash is folded like any other.
	ID        int64
	Summary   string
	Metric    string
	Value     float64
	Threshold float64
	Time      time.Time
}

// EnqueueQuery writes the notifications of a query monitoring action
// inside tx, to the channels the rule's topics route to (the filters see
// alarm "QMR <rule>", severity warning, state ALARM). PagerDuty and
// OpsGenie are left out: a long query is news for the channel, not a page
// that nothing would ever resolve.
func (o *Outbox) EnqueueQuery(ctx context.Context, tx *sql.Tx, e QueryEvent) (int, error) {
	// A query rule is not an alarm: its event carries the labels the
	// subscription filters read, and nothing of an alarm's.
	name := "QMR " + e.Rule
	ev := Event{Source: SourceQueryRule, Topics: e.Topics,
		Labels: map[string]string{"alarm": name, "severity": "warning", "state": "ALARM", "rule": e.Rule}}
	now := o.clock.Now()
	key := DedupKey(o.s, name, e.ID)
	v := e.Value
	m := Message{Kind: KindQuery, Platform: o.s.Platform, Environment: o.s.Environment, Alarm: name,
		Description: e.Summary, Severity: "warning", From: "OK", To: "ALARM", Metric: e.Metric,
		Statistic: "Maximum", Comparison: "GreaterThanThreshold", Threshold: e.Threshold, PeriodSeconds: 10,
		EvaluationPeriods: 1, DatapointsToAlarm: 1, Value: &v, Reason: e.Summary, Time: e.Time.UTC(),
		Episode: e.ID, AccountID: o.s.AWS.AccountID, Region: o.s.AWS.Region}
	n := 0
	for _, r := range routes(o.s, ev, o.logOff) {
		if CanResolve(r.channel.Type) {
			continue
		}
		if err := insertRow(ctx, tx, r.channel.Name, row{kind: KindQuery, key: key}, m, 0, now); err != nil {
			return 0, fmt.Errorf("query notification: %w", err)
		}
		n++
	}
	if n > 0 {
		o.wake()
	}
	return n, nil
}
