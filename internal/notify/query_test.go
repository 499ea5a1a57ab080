package notify

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

func TestQueryNotificationsReachTheChannelsButNeverPage(t *testing.T) {
	ctx := context.Background()
	s, diags := spec.Default(spec.Options{LookupEnv: func(k string) (string, bool) {
		v := map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.test/x", "PD_ROUTING_KEY": "k", "OPSGENIE_API_KEY": "k"}[k]
		return v, v != ""
	}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	// Route QMR to every channel, PagerDuty included, to see it left out
	// (email stays off: its variables are unset).
	tp, _ := s.Topic("dpc-alerts")
	for i := range tp.Subscriptions {
		tp.Subscriptions[i].Filter = nil
	}
	st := storetest.Open(t)
	ob := NewOutbox(OutboxOptions{Spec: s})
	var n int
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = ob.EnqueueQuery(ctx, tx, QueryEvent{Rule: "long-running-query", Topics: []string{"dpc-alerts"}, ID: 3,
			Summary: "query 42 of analyst ran 650 s (> 600 s): notified", Metric: "execution_time", Value: 650, Threshold: 600, Time: time.Now()})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := List(ctx, st.Reader(), Query{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r.Channel] = r.Kind + " " + r.DedupKey
	}
	if n != 2 || got["inbox"] != "query dpcops:dpc-learning:prod:QMR long-running-query:3" || got["slack"] == "" || got["pagerduty"] != "" || got["opsgenie"] != "" {
		t.Errorf("%d rows: %v", n, got)
	}
}
