package alarm

import (
	"context"
	"database/sql"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"sync"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
)

// fakeClock is a clock the test moves. After hands each wait to the test
// through waits, so a test knows exactly when Run is waiting and for how
// long, with no wall-clock timing.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits chan wait
}

type wait struct {
	until time.Time
	fire  chan time.Time
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, waits: make(chan wait, 16)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	w := wait{until: c.Now().Add(d), fire: make(chan time.Time, 1)}
	c.waits <- w
	return w.fire
}

// t0 is a period boundary of every test alarm.
var t0 = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

func minute(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

func TestMain(m *testing.M) { pgtest.Run(m) }

// loadSpec has one alarm: Load above 10 on 2 of 2 one-minute periods.
const loadSpec = `
platform: t
warehouse: {engine: postgres, dsn: "postgres://h/db"}
metrics:
  - {name: Load, source: compute_capacity, dimensions: {Host: a}}
  - {name: Other, source: compute_capacity}
alarms:
  - name: High-Load
    metric: Load
    statistic: Maximum
    period: 1m
    evaluation_periods: 2
    datapoints_to_alarm: 2
    comparison: GreaterThanThreshold
    threshold: 10
  - name: Off
    enabled: false
    metric: Other
    comparison: GreaterThanThreshold
    threshold: 1
`

// put stores Load datapoints, one per minute from minute(from).
func put(t *testing.T, st *store.Store, from int, values ...float64) {
	t.Helper()
	var dps []store.Datapoint
	for i, v := range values {
		dps = append(dps, store.Datapoint{Metric: "Load", Dims: "Host=a", Time: minute(from + i).Add(10 * time.Second), Value: v})
	}
	if err := st.InsertDatapoints(context.Background(), dps); err != nil {
		t.Fatal(err)
	}
}

// recorder is an OnTransition hook that records what it is given and
// writes an outbox row in the transition's transaction, as notify will.
type recorder struct {
	mu   sync.Mutex
	got  []Transition
	fail error
}

func (r *recorder) hook(ctx context.Context, tx *sql.Tx, t Transition) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox (channel, kind, alarm, transition_id, dedup_key, payload, next_attempt_at, created_at)
		VALUES ('inbox', 'trigger', ?, ?, ?, '{}', 0, 0)`, t.Alarm, t.ID, t.Alarm); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.got = append(r.got, t)
	return nil
}

func (r *recorder) transitions() []Transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Transition(nil), r.got...)
}

func outboxRows(t *testing.T, st *store.Store) int {
	t.Helper()
	var n int
	if err := st.Reader().QueryRow(`SELECT count(*) FROM outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
