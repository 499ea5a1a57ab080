package server

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/dpc-learning/dpcops/internal/leader"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/web"
)

// replica is this serve among those that share a store. On SQLite it is
// the only one and leads from the start; on PostgreSQL it campaigns, runs
// the engines while it leads, and stops (exit 1, for its supervisor to
// start it again as a follower) if it loses the lead: nothing of a lost
// term stays in memory to be mistaken for the truth.
type replica struct {
	id      string
	st      *store.Store
	elector *leader.Elector // nil on SQLite
	log     *slog.Logger
}

func newReplica(st *store.Store, o Options, logger *slog.Logger) *replica {
	host, _ := os.Hostname()
	// host:pid says where to look; the random part keeps two serves of
	// one process (tests, an embedding program) apart.
	tag := make([]byte, 3)
	rand.Read(tag)
	r := &replica{id: fmt.Sprintf("%s:%d/%x", host, os.Getpid(), tag), st: st, log: logger.With("component", "leader")}
	if st.Dialect() == "postgres" {
		r.elector = leader.New(leader.Options{Store: st, ID: r.id, TTL: o.Spec.Store.LeaderLease.D(), Logger: r.log})
	}
	return r
}

// run starts the notification worker now, and the engines that run once
// per store now (SQLite) or whenever this replica wins the lead
// (PostgreSQL), under wg. A lost lead is sent on lost.
func (r *replica) run(ctx context.Context, wg *sync.WaitGroup, e *engines, lost chan<- error) {
	if r.elector != nil {
		e.died = stepDown(lost)
	}
	e.startWorker(ctx, wg)
	if r.elector == nil {
		e.leading.Store(true)
		e.start(ctx, wg)
		return
	}
	wg.Go(func() {
		err := r.elector.Run(ctx, func(ctx context.Context, epoch int64) {
			var term sync.WaitGroup
			e.leading.Store(true)
			e.start(ctx, &term)
			<-ctx.Done()
			e.leading.Store(false)
			term.Wait()
		})
		if err != nil {
			select {
			case lost <- err:
			default: // stopping already (a dead engine stepped down)
			}
		}
	})
}

// status is what /api/v1/health and the Collectors page show.
func (r *replica) status() web.Replica {
	out := web.Replica{Replica: r.id, Store: r.st.Dialect(), Leader: r.id, Leading: true}
	if r.elector == nil {
		return out
	}
	// The elector's view, refreshed every poll (a fifth of the lease):
	// no query per page load.
	s := r.elector.Status()
	out.Leader, out.Leading, out.Epoch = s.Leader, s.Self, s.Epoch
	return out
}

// stepDown makes a replica that shares its store stop when one of its
// engines dies: the lease is handed back as serve stops, a follower with
// every engine running leads at once, and the supervisor starts this one
// again. Staying would keep the lead with a dead engine: blind or mute
// until someone reads /readyz. A lone SQLite serve has no one to hand
// over to; it stays, unready, and withholds its heartbeat.
func stepDown(lost chan<- error) func(name string, err error) {
	return func(name string, err error) {
		select {
		case lost <- fmt.Errorf("%s stopped (%v): stepping down, so that a replica whose engines run leads", name, err):
		default: // stopping already
		}
	}
}
