package notify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/channels"
	"github.com/dpc-learning/dpcops/internal/notify/notifytest"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

// replicaSpec sends every COPY error to one webhook that takes two
// deliveries at a time.
const replicaSpec = `platform: dpc-learning
environment: prod
warehouse: {engine: postgres, dsn: "postgres://h/db"}
metrics:
  - {name: CopyErrorCount, source: load_errors}
alarms:
  - {name: Alert-COPY-Error, metric: CopyErrorCount, statistic: Sum, period: 5m, comparison: GreaterThanOrEqualToThreshold,
     threshold: 1, severity: critical, topics: [dpc-alerts]}
topics:
  dpc-alerts: {subscriptions: [hook]}
channels:
  hook: {type: webhook, url: "%s/hook", concurrency: 2}
`

// inFlight is a webhook receiver that counts the deliveries it holds at
// once and how often each arrives, holding each briefly so that workers
// that overfill the channel would overlap.
type inFlight struct {
	mu        sync.Mutex
	now, most int
	seen      map[string]int
	arrived   chan struct{}
}

func newInFlight(t *testing.T) (*inFlight, string) {
	f := &inFlight{seen: map[string]int{}, arrived: make(chan struct{}, 1000)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.now++
		f.most = max(f.most, f.now)
		f.seen[r.Header.Get("X-Dpcops-Delivery")]++
		f.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		f.mu.Lock()
		f.now--
		f.mu.Unlock()
		f.arrived <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return f, srv.URL
}

// replicaWorker is a worker on st, as a serve replica runs it: its clock
// never moves, so that only a wake-up (a kick in its process, a NOTIFY
// from another) makes it look for work, never a poll.
func replicaWorker(t *testing.T, s *spec.Spec, st *store.Store, ob *notify.Outbox, leading bool) (*notify.Worker, *notifytest.Clock) {
	t.Helper()
	ns, err := channels.Build(context.Background(), channels.Options{Spec: s, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	clock := notifytest.NewClock(t0)
	w, err := notify.NewWorker(notify.WorkerOptions{Spec: s, Store: st, Notifiers: ns, Outbox: ob,
		Clock: clock, Leading: func() bool { return leading }})
	if err != nil {
		t.Fatal(err)
	}
	return w, clock
}

// TestReplicasShareTheOutbox: workers on two replicas of one store (two
// store handles, as two serves hold) deliver a burst each row exactly
// once, never more at once than the channel's concurrency between them,
// and a transition committed on the leader wakes the follower's worker
// without any poll. On SQLite, where one serve holds the store, the
// second worker is a one-shot command's beside it.
func TestReplicasShareTheOutbox(t *testing.T) {
	t.Parallel()
	recv, url := newInFlight(t)
	s, diags := spec.Parse("replicas.yaml", fmt.Appendf(nil, replicaSpec, url), spec.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatal(diags.Errors())
	}
	open := storetest.Opener(t)
	leaderStore, followerStore := open(), open()
	clock := notifytest.NewClock(t0)
	ob := notify.NewOutbox(notify.OutboxOptions{Spec: s, Clock: clock, Store: leaderStore})
	leader, _ := replicaWorker(t, s, leaderStore, ob, true)
	follower, _ := replicaWorker(t, s, followerStore, nil, false)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { leader.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	const burst = 30
	for ep := int64(1); ep <= burst; ep++ {
		tr := alarm.Transition{Alarm: "Alert-COPY-Error", Time: clock.Now(), From: alarm.OK, To: alarm.Alarm, Episode: ep}
		if err := commitTransition(ctx, leaderStore, ob.OnTransition, &tr); err != nil {
			t.Fatal(err)
		}
		if ep == burst/3 {
			// The follower joins while the leader is busy.
			wg.Go(func() { follower.Run(ctx) })
		}
	}
	waitArrivals(t, recv, burst)
	recv.mu.Lock()
	most, seen := recv.most, len(recv.seen)
	for id, n := range recv.seen {
		if n != 1 {
			t.Errorf("delivery %s arrived %d times", id, n)
		}
	}
	recv.mu.Unlock()
	if seen != burst {
		t.Errorf("%d distinct deliveries arrived, want %d", seen, burst)
	}
	if most > 2 {
		t.Errorf("%d deliveries in flight at once on a channel of concurrency 2", most)
	}

	if !storetest.Postgres() {
		return
	}
	// A follower alone, idle: it looked once at start and once more when
	// its listener took (two waits on its clock, which never moves). A
	// transition committed through another handle reaches it by the
	// database's wake-up alone.
	cancel()
	wg.Wait()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	idle, idleClock := replicaWorker(t, s, followerStore, nil, false)
	wg.Go(func() { idle.Run(ctx) })
	for idleClock.Waiters() < 2 {
		time.Sleep(time.Millisecond)
	}
	tr := alarm.Transition{Alarm: "Alert-COPY-Error", Time: clock.Now(), From: alarm.OK, To: alarm.Alarm, Episode: burst + 1}
	if err := commitTransition(ctx, leaderStore, ob.OnTransition, &tr); err != nil {
		t.Fatal(err)
	}
	waitArrivals(t, recv, 1)
}

// waitArrivals waits for n more requests at the receiver.
func waitArrivals(t *testing.T, f *inFlight, n int) {
	t.Helper()
	deadline := time.After(time.Minute)
	for range n {
		select {
		case <-f.arrived:
		case <-deadline:
			t.Fatalf("deliveries did not all arrive")
		}
	}
}
