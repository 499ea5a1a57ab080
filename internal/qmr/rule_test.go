package qmr

import (
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
)

func TestRuleBreaks(t *testing.T) {
	base := spec.QMRRule{Name: "long-running-query", Metric: "execution_time", Threshold: 600, Action: "notify",
		ExcludeUsers: []string{"etl"}, ExcludeQueryLabels: []string{"dbt", "backfill-*"}}
	q := func(user, label string, exec, queue time.Duration) Query {
		return Query{ID: 1, User: user, Label: label, Execution: exec, Queue: queue}
	}
	own := func(label string) Query {
		return Query{ID: 2, PID: 2, User: "postgres", Label: label, Execution: time.Hour, Own: true}
	}
	for _, tc := range []struct {
		name string
		rule spec.QMRRule
		q    Query
		want bool
	}{
		{"over the threshold", base, q("analyst", "", 601*time.Second, 0), true},
		{"at the threshold is not over it", base, q("analyst", "", 600*time.Second, 0), false},
		{"under", base, q("analyst", "", 10*time.Second, 0), false},
		{"excluded user", base, q("etl", "", time.Hour, 0), false},
		{"excluded label", base, q("analyst", "dbt", time.Hour, 0), false},
		{"excluded label pattern", base, q("analyst", "backfill-2026-11", time.Hour, 0), false},
		{"queue time is not execution time", base, q("analyst", "", 0, time.Hour), false},
		{"queue_time rule", spec.QMRRule{Name: "queued", Metric: "queue_time", Threshold: 60}, q("analyst", "", 0, 61*time.Second), true},
		{"dpcops' own sessions are left alone", base, own("dpcops-maintenance"), false},
		{"dpcops' collector too", base, own("dpcops"), false},
		{"whatever their name", base, own("tableau"), false},
		{"a dpcops name does not make a session dpcops'", base, q("analyst", "dpcops-evade", time.Hour, 0), true},
		{"a rule named dpcops-* watches them", spec.QMRRule{Name: "dpcops-maintenance-runaway", Metric: "execution_time", Threshold: 600},
			own("dpcops-maintenance"), true},
		{"and only them", spec.QMRRule{Name: "dpcops-maintenance-runaway", Metric: "execution_time", Threshold: 600},
			q("analyst", "", time.Hour, 0), false},
		{"not those named like them", spec.QMRRule{Name: "dpcops-maintenance-runaway", Metric: "execution_time", Threshold: 600},
			q("analyst", "dpcops-maintenance", time.Hour, 0), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := compile(tc.rule).breaks(tc.q); got != tc.want {
				t.Errorf("breaks = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	a := Action{Rule: "long-running-query", Metric: "execution_time", Value: 612.4, Threshold: 600, Outcome: OutcomeCancelled,
		Query: Query{ID: 4242, User: "analyst", Label: "tableau"}}
	want := "query 4242 by analyst (tableau): execution_time 612 s > 600 s (rule long-running-query): cancelled"
	if got := Summary(a); got != want {
		t.Errorf("%q\nwant %q", got, want)
	}
}

func TestCancelStatement(t *testing.T) {
	if got := CancelStatement(9003); got != "CANCEL 9003" {
		t.Errorf("%q", got)
	}
}
