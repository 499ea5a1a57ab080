package leader

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/store"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

// ttl is short for a test, long enough that a loaded machine's stalls
// (a GC, the scheduler) do not cost a renewal.
const ttl = 3 * time.Second

func openStore(t *testing.T, dsn string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// term is one replica's campaign, run in the background.
type term struct {
	e      *Elector
	cancel context.CancelFunc
	led    chan int64
	done   chan error
}

func campaign(t *testing.T, st *store.Store, id string) *term {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tm := &term{e: New(Options{Store: st, ID: id, TTL: ttl}), cancel: cancel, led: make(chan int64, 1), done: make(chan error, 1)}
	go func() {
		tm.done <- tm.e.Run(ctx, func(ctx context.Context, epoch int64) {
			tm.led <- epoch
			<-ctx.Done()
		})
	}()
	t.Cleanup(func() { cancel(); <-tm.done })
	return tm
}

func (tm *term) leads(t *testing.T, within time.Duration) int64 {
	t.Helper()
	select {
	case e := <-tm.led:
		return e
	case <-time.After(within):
		t.Fatalf("%s did not lead within %s", tm.e.o.ID, within)
		return 0
	}
}

func (tm *term) follows(t *testing.T) {
	t.Helper()
	select {
	case e := <-tm.led:
		t.Fatalf("%s leads (epoch %d) beside the leader", tm.e.o.ID, e)
	default:
	}
}

// write commits a row under a fence.
func write(st *store.Store, epoch int64, holder string) error {
	ctx := store.WithFence(context.Background(), epoch, holder)
	return st.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO collector_state (key, value, ts) VALUES ('fenced', 1, 0)
			ON CONFLICT (key) DO UPDATE SET value = collector_state.value + 1`)
		return err
	})
}

// TestOneLeaderAndACleanHandover: of two replicas one leads; the other
// follows and knows who leads; a leader that stops hands the lease over at
// once, with a higher epoch, and the old epoch's writes are refused.
func TestOneLeaderAndACleanHandover(t *testing.T) {
	dsn := pgtest.DB(t)
	a := campaign(t, openStore(t, dsn), "a")
	ea := a.leads(t, 5*time.Second)
	b := campaign(t, openStore(t, dsn), "b")
	time.Sleep(2 * ttl) // b polls several times meanwhile
	b.follows(t)
	if s := b.e.Status(); s.Leader != "a" || s.Self || s.Epoch != ea {
		t.Errorf("b sees %+v, want a at epoch %d", s, ea)
	}
	if s := a.e.Status(); !s.Self || s.Epoch != ea {
		t.Errorf("a sees %+v", s)
	}
	st := openStore(t, dsn)
	if err := write(st, ea, "a"); err != nil {
		t.Fatalf("a write of the leader's epoch: %v", err)
	}
	a.cancel()
	if err := <-a.done; err != nil {
		t.Errorf("a clean stop: %v", err)
	}
	a.done <- nil // for the cleanup
	start := time.Now()
	eb := b.leads(t, 5*time.Second)
	if eb <= ea {
		t.Errorf("b leads at epoch %d, not above a's %d", eb, ea)
	}
	// A handover costs b's next poll (a fifth of the lease), not the
	// lease: with slack for a loaded machine, well under the lease.
	if waited := time.Since(start); waited > 3*ttl/4 {
		t.Errorf("a handed over, yet b waited %s (the lease is %s)", waited, ttl)
	}
	if err := write(st, eb, "a"); !errors.Is(err, store.ErrDeposed) {
		t.Errorf("the new epoch written as another holder's: %v", err)
	}
	if err := write(st, ea, "a"); !errors.Is(err, store.ErrDeposed) {
		t.Errorf("a write of the deposed epoch: %v", err)
	}
	if err := write(st, eb, "b"); err != nil {
		t.Errorf("a write of the new epoch: %v", err)
	}
}

// TestALeaderThatVanishesIsReplaced: a leader that can no longer reach the
// store (its host gone) stops leading on its own, and a follower takes
// over once the lease expires.
func TestALeaderThatVanishesIsReplaced(t *testing.T) {
	dsn := pgtest.DB(t)
	sa := openStore(t, dsn)
	a := campaign(t, sa, "a")
	ea := a.leads(t, 5*time.Second)
	b := campaign(t, openStore(t, dsn), "b")
	sa.Close() // a cannot renew, nor hand the lease back
	gone := time.Now()
	select {
	case err := <-a.done:
		if !errors.Is(err, ErrLost) {
			t.Errorf("a stopped with %v, want ErrLost", err)
		}
		a.done <- nil
		if lost := time.Since(gone); lost > ttl {
			t.Errorf("a went on leading %s after its last renewal could have been, with a lease of %s", lost, ttl)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a leads on without its store")
	}
	eb := b.leads(t, 5*time.Second)
	if eb != ea+1 {
		t.Errorf("b's epoch %d, want %d", eb, ea+1)
	}
	if took := time.Since(gone); took < ttl/2 {
		t.Errorf("b took over after %s, before a's lease could expire", took)
	}
}
