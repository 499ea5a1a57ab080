// Package leader elects, among the serve replicas that share one
// PostgreSQL store, the one that runs the engines that must run once
// (collection, alarm evaluation and actions, notification delivery,
// maintenance, query monitoring, the capacity lease, pruning,
// self-monitoring). The others serve the web UI and API.
//
// The election is a lease row in the store (leader_lease), renewed by the
// leader every TTL/3 and taken over by a follower once it has expired by
// the database server's clock, so that the replicas' clocks do not
// matter and a leader whose host vanished (no TCP reset, no session end)
// is replaced within TTL and a poll. Each new leader gets a higher
// epoch; the engines' writes carry it (store.WithFence), so that a
// deposed leader's late write is refused rather than interleaved with
// its successor's. A leader that cannot renew in time stops leading
// before its lease can expire for the others.
//
// The database is the consensus: dpcops adds none of its own.
package leader

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
)

// Options configure an Elector.
type Options struct {
	Store *store.Store
	// ID names this replica (host and PID); unique among the replicas.
	ID string
	// TTL is the lease (default 10s): a follower takes over within TTL
	// and one Poll of the leader's death.
	TTL time.Duration
	// Poll is how often a follower looks at the lease (default TTL/5).
	Poll   time.Duration
	Logger *slog.Logger
}

// Status is who leads.
type Status struct {
	// Leader is the leading replica's ID; "" when none holds a live
	// lease.
	Leader string `json:"leader"`
	Epoch  int64  `json:"epoch"`
	// Self says this replica leads.
	Self bool `json:"self"`
}

// Elector campaigns for one replica.
type Elector struct {
	o   Options
	log *slog.Logger

	mu     sync.Mutex
	status Status
	// acquiredAt is when the winning acquisition started.
	acquiredAt time.Time
	// readErr remembers that reading the lease failed, so that a database
	// that stays away is logged once, not every poll.
	readErr bool
}

// New returns an elector.
func New(o Options) *Elector {
	if o.TTL <= 0 {
		o.TTL = 10 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = o.TTL / 5
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Elector{o: o, log: o.Logger}
}

// ErrLost says this replica led and no longer does.
var ErrLost = errors.New("leadership lost")

// nowMS is the database server's clock in Unix milliseconds.
const nowMS = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`

// Run campaigns until it wins, then calls lead with a context that ends
// when the lease is lost, and renews the lease while lead runs. It
// returns nil when ctx ends (having handed the lease back), or ErrLost
// once it led and lost the lease: serve then exits, and its supervisor
// starts it again as a follower with nothing of the old term in memory.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context, epoch int64)) error {
	var epoch int64
	for epoch == 0 {
		var err error
		epoch, err = e.acquire(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !e.readErr:
			e.log.Warn("leader election: cannot reach the lease; trying again", "err", err)
		case err == nil && e.readErr:
			e.log.Info("leader election: the lease is readable again")
		}
		e.readErr = err != nil
		if epoch != 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(e.o.Poll):
		}
	}
	e.set(Status{Leader: e.o.ID, Epoch: epoch, Self: true})
	e.log.Info("leading", "replica", e.o.ID, "epoch", epoch)
	lctx, stop := context.WithCancel(store.WithFence(ctx, epoch, e.o.ID))
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		lead(lctx, epoch)
	}()
	err := e.hold(lctx, epoch)
	stop()
	<-done
	if ctx.Err() != nil {
		e.release(epoch)
		return nil
	}
	e.set(Status{})
	e.log.Error("leadership lost: stopping, so as to start again as a follower", "epoch", epoch, "err", err)
	return fmt.Errorf("%w (epoch %d): %v", ErrLost, epoch, err)
}

// hold renews the lease every TTL/3 until ctx ends, or returns why it
// was lost: taken over, or not renewed in time. The lease it holds ends,
// by this replica's count, TTL after the start of its last successful
// renewal (or of the acquisition); a little before that it stops, renewed
// or not, so that it never acts once the others may see the lease
// expire. The database's clock, which the others read, can only be
// later than that start.
func (e *Elector) hold(ctx context.Context, epoch int64) error {
	margin := e.o.TTL / 10
	every := e.o.TTL / 3
	deadline := e.acquiredAt.Add(e.o.TTL - margin)
	for {
		wait := min(every, time.Until(deadline))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("the lease could not be renewed within %s", e.o.TTL-margin)
		}
		start := time.Now()
		rctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
		ok, err := e.renew(rctx, epoch)
		cancel()
		switch {
		case err == nil && !ok:
			return errors.New("another replica holds the lease")
		case err == nil:
			deadline = start.Add(e.o.TTL - margin)
		default:
			e.log.Warn("leader election: renewal failed, retrying until the lease ends", "err", err, "ends_in", time.Until(deadline).Round(time.Millisecond))
		}
	}
}

// db is the election's own connection.
func (e *Elector) db() *sql.DB { return e.o.Store.Coordination() }

// acquire takes the lease if it is free or expired and returns the new
// epoch; 0 when another replica holds it. It reads the lease first, and
// writes only to an expired one: a write to a live lease would lock its
// row and hold up the leader's fenced writes at every poll.
func (e *Elector) acquire(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, e.o.Poll)
	defer cancel()
	// The same read tells a follower who leads, for its status.
	var holder string
	var held int64
	var live bool
	err := e.db().QueryRowContext(ctx, `SELECT holder, epoch, expires_at >= `+nowMS+` FROM leader_lease WHERE id = 1`).Scan(&holder, &held, &live)
	switch {
	case err == nil && live:
		e.set(Status{Leader: holder, Epoch: held, Self: holder == e.o.ID})
		return 0, nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return 0, err
	}
	e.set(Status{}) // nobody leads until this write or another's
	start := time.Now()
	var epoch int64
	err = e.db().QueryRowContext(ctx, `INSERT INTO leader_lease (id, holder, epoch, expires_at, renewed_at)
		VALUES (1, $1, 1, `+nowMS+` + $2, `+nowMS+`)
		ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, epoch = leader_lease.epoch + 1,
			expires_at = excluded.expires_at, renewed_at = excluded.renewed_at
		WHERE leader_lease.expires_at < `+nowMS+`
		RETURNING epoch`, e.o.ID, e.o.TTL.Milliseconds()).Scan(&epoch)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err == nil {
		e.acquiredAt = start
	}
	return epoch, err
}

// renew extends the lease; false when this replica no longer holds it.
func (e *Elector) renew(ctx context.Context, epoch int64) (bool, error) {
	res, err := e.db().ExecContext(ctx, `UPDATE leader_lease SET expires_at = `+nowMS+` + $1, renewed_at = `+nowMS+`
		WHERE id = 1 AND holder = $2 AND epoch = $3`, e.o.TTL.Milliseconds(), e.o.ID, epoch)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// release hands the lease back on a clean stop, so that a follower need
// not wait for it to expire.
func (e *Elector) release(epoch int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := e.db().ExecContext(ctx, `UPDATE leader_lease SET expires_at = 0 WHERE id = 1 AND holder = $1 AND epoch = $2`, e.o.ID, epoch)
	if err != nil {
		e.log.Warn("leader election: could not hand the lease back; it expires on its own", "err", err)
	}
	e.set(Status{})
}

func (e *Elector) set(s Status) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.status = s
}

// Status returns who leads, as this replica last saw it.
func (e *Elector) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.status
}
