package notify_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/channels"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

const benchSpec = `platform: dpc-learning
environment: bench
warehouse: {engine: postgres, dsn: "postgres://h/db"}
metrics:
  - {name: CopyErrorCount, source: load_errors}
alarms:
  - {name: Alert-COPY-Error, metric: CopyErrorCount, statistic: Sum, period: 5m, comparison: GreaterThanOrEqualToThreshold,
     threshold: 1, severity: critical, topics: [dpc-alerts]}
topics:
  dpc-alerts: {subscriptions: [slack, hook]}
channels:
  slack: {type: slack, webhook_url: "%s/services/T/B/x"}
  hook: {type: webhook, url: "%s/hook"}
`

// benchRig is a worker on the system clock over a fresh store, with both
// channels pointed at one local receiver that calls arrived.
func benchRig(b *testing.B, arrived func()) (*spec.Spec, *store.Store, *notify.Outbox, *notify.Worker) {
	b.Helper()
	s, st, ob, ws := benchReplicas(b, arrived, 1)
	return s, st, ob, ws[0]
}

// benchReplicas is benchRig with the workers of n replicas, each on a
// store handle of its own (as n serves hold); the outbox writes through
// the first, the leader's.
func benchReplicas(b *testing.B, arrived func(), n int) (*spec.Spec, *store.Store, *notify.Outbox, []*notify.Worker) {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		arrived()
		w.Write([]byte("ok"))
	}))
	b.Cleanup(srv.Close)
	s, diags := spec.Parse("bench.yaml", fmt.Appendf(nil, benchSpec, srv.URL, srv.URL), spec.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		b.Fatal(diags.Errors())
	}
	open := storetest.Opener(b)
	var leader *store.Store
	var ob *notify.Outbox
	var ws []*notify.Worker
	for i := range n {
		st := open()
		var wob *notify.Outbox
		if i == 0 {
			leader, ob = st, notify.NewOutbox(notify.OutboxOptions{Spec: s, Store: st})
			wob = ob
		}
		ns, err := channels.Build(context.Background(), channels.Options{Spec: s, Store: st})
		if err != nil {
			b.Fatal(err)
		}
		w, err := notify.NewWorker(notify.WorkerOptions{Spec: s, Store: st, Notifiers: ns, Outbox: wob})
		if err != nil {
			b.Fatal(err)
		}
		ws = append(ws, w)
	}
	return s, leader, ob, ws
}

// BenchmarkTransitionToFirstAttempt measures, with the worker running
// idle, the time from the alarm engine's hook call (inside the
// transition's transaction, before its commit and fsync) to the first
// request reaching a local receiver.
func BenchmarkTransitionToFirstAttempt(b *testing.B) {
	got := make(chan time.Time, 16)
	var n atomic.Int64
	_, st, ob, w := benchRig(b, func() {
		// Both channels receive each transition; time the first.
		if n.Add(1)%2 == 1 {
			got <- time.Now()
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var start time.Time
		err := st.WriteTx(ctx, func(tx *sql.Tx) error {
			start = time.Now()
			return ob.OnTransition(ctx, tx, alarm.Transition{Alarm: "Alert-COPY-Error", Time: start, From: alarm.OK, To: alarm.Alarm, Episode: int64(i + 1)})
		})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, (<-got).Sub(start))
		<-got2(&n, i) // wait for the second channel too, so rounds do not overlap
	}
	b.StopTimer()
	cancel()
	<-done
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// got2 waits until both channels of round i were reached.
func got2(n *atomic.Int64, i int) <-chan struct{} {
	c := make(chan struct{})
	go func() {
		for n.Load() < int64(2*(i+1)) {
			time.Sleep(50 * time.Microsecond)
		}
		close(c)
	}()
	return c
}

// BenchmarkSustainedDeliveries commits 1 000 transitions (2 000
// deliveries over two HTTP channels, four in flight each) and measures
// how fast the running worker delivers them all.
func BenchmarkSustainedDeliveries(b *testing.B) { benchSustained(b, 1) }

// BenchmarkSustainedDeliveriesTwoReplicas is the same with the workers
// of two replicas sharing the outbox, the channels' limits between them.
func BenchmarkSustainedDeliveriesTwoReplicas(b *testing.B) { benchSustained(b, 2) }

func benchSustained(b *testing.B, replicas int) {
	const transitions = 1000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var n atomic.Int64
		all := make(chan struct{})
		_, st, ob, ws := benchReplicas(b, func() {
			if n.Add(1) == 2*transitions {
				close(all)
			}
		}, replicas)
		ctx, cancel := context.WithCancel(context.Background())
		err := st.WriteTx(ctx, func(tx *sql.Tx) error {
			for ep := 1; ep <= transitions; ep++ {
				if _, err := ob.Enqueue(ctx, tx, alarm.Transition{Alarm: "Alert-COPY-Error", Time: time.Now(), From: alarm.OK, To: alarm.Alarm, Episode: int64(ep)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		b.StartTimer()
		start := time.Now()
		for _, w := range ws {
			wg.Go(func() { w.Run(ctx) })
		}
		<-all
		elapsed := time.Since(start)
		b.StopTimer()
		cancel()
		wg.Wait()
		b.ReportMetric(2*transitions/elapsed.Seconds(), "deliveries/s")
	}
}
