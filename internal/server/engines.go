package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/capacity"
	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/lease"
	"github.com/dpc-learning/dpcops/internal/maintain"
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/notify/channels"
	"github.com/dpc-learning/dpcops/internal/qmr"
	"github.com/dpc-learning/dpcops/internal/runbook"
	"github.com/dpc-learning/dpcops/internal/selfmon"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/web"
)

// engines are the parts `serve` runs beside its HTTP server.
type engines struct {
	spec      *spec.Spec
	store     *store.Store
	logger    *slog.Logger
	collector *collect.Collector
	worker    *notify.Worker
	alarms    *alarm.Engine
	incidents *runbook.Incidents
	actor     *runbook.Actor
	maint     *maintenance
	lease     *lease.Manager
	actions   web.Actions
	self      *selfmon.Monitor
	running   running
	// leading says this replica leads and runs the engines that run
	// once; the notification worker, which runs on every replica, asks.
	leading atomic.Bool
	// died, when set, is told of an engine that stopped before serve did.
	died    func(name string, err error)
	closers []func()
}

// assemble builds every engine the spec asks for, wired together: a
// transition, the notifications it owes and the incident it opens or
// closes commit in one transaction.
func assemble(ctx context.Context, o Options, st *store.Store, reg prometheus.Registerer, logger *slog.Logger) (*engines, error) {
	e := &engines{spec: o.Spec, store: st, logger: logger, actions: o.Actions}
	col, rerunner, closeBackends, err := openCollector(ctx, o.Spec, st, logger, reg)
	if err != nil {
		return nil, err
	}
	e.collector = col
	e.closers = append(e.closers, closeBackends)
	outbox, worker, err := openNotify(ctx, o.Spec, st, logger, reg, e.leading.Load)
	if err != nil {
		e.close()
		return nil, err
	}
	e.worker = worker
	e.incidents = runbook.NewIncidents(o.Spec, st)
	// Alarms wait one collection interval after a period ends, so that the
	// reading taken at its end is in. A transition owes its notifications
	// (routed, inhibited, silenced, written to the outbox) and its place on
	// an incident, in its own transaction.
	e.alarms, err = alarm.New(alarm.Options{Spec: o.Spec, Store: st, Logger: logger.With("component", "alarm"),
		Delay: o.Spec.Collect.Interval.D(), Hooks: []alarm.Hook{
			{Name: "notifications", Fn: outbox.OnTransition},
			{Name: "incidents", Fn: e.incidents.OnTransition},
		}})
	if err != nil {
		e.close()
		return nil, err
	}
	var cancelQuery func(context.Context, int64) (qmr.Query, error)
	e.maint, cancelQuery = openMaintenance(o.Spec, st, rerunner, outbox, logger)
	if e.maint != nil {
		e.closers = append(e.closers, e.maint.close)
	}
	e.lease = openLease(ctx, o.Spec, st, rerunner, logger)
	e.wireActions(o, rerunner, cancelQuery)
	e.actor = &runbook.Actor{Spec: o.Spec, Store: st, Alarms: e.alarms, Incidents: e.incidents,
		Rerun: o.Rerun, Logger: logger.With("component", "actions")}
	if e.actor.Rerun == nil {
		e.actor.Rerun = rerunner.Rerun
	}
	self := selfmon.Options{Spec: o.Spec, Store: st, Logger: logger.With("component", "selfmon"), Healthy: e.well()}
	if p, ok := rerunner.SFN.(collect.Publisher); ok {
		self.Publisher = p
	}
	e.self = selfmon.New(self)
	return e, nil
}

// wireActions fills in the API's actions the caller did not provide.
func (e *engines) wireActions(o Options, rerunner *runbook.Rerunner, cancelQuery func(context.Context, int64) (qmr.Query, error)) {
	if e.actions.RerunPipeline == nil {
		e.actions.RerunPipeline = rerunner.Rerun
	}
	if e.actions.RetryDelivery == nil {
		e.actions.RetryDelivery = e.worker.Retry
	}
	if e.actions.CancelQuery == nil && cancelQuery != nil {
		e.actions.CancelQuery = func(ctx context.Context, id int64) error {
			q, err := cancelQuery(ctx, id)
			if err == nil {
				runbook.RecordCancel(ctx, e.incidents, o.Spec, q, time.Now())
			}
			return err
		}
	}
}

// jobs is the scheduler the UI reads, nil when maintenance is off.
func (e *engines) jobs() web.JobSource {
	if e.maint == nil {
		return nil
	}
	return e.maint.scheduler
}

// startWorker runs the notification worker until ctx ends: on every
// replica, leader or not, since workers claim apart.
func (e *engines) startWorker(ctx context.Context, wg *sync.WaitGroup) {
	wg.Go(e.logged(ctx, "notification worker", e.worker.Run))
	e.running.watch(progress{name: "notification worker", last: e.worker.LastPass, within: 10*e.worker.PollInterval() + 30*time.Second})
}

// start runs the engines that run once per store (on its leader) until
// ctx ends.
func (e *engines) start(ctx context.Context, wg *sync.WaitGroup) {
	// Every warehouse session the engines open is noted under this
	// context, so that query monitoring knows dpcops' own by process id.
	ctx = pgwire.WithSessions(ctx, pgwire.NewSessions())
	plain := func(run func(context.Context)) func(context.Context) error {
		return func(ctx context.Context) error { run(ctx); return nil }
	}
	logged := func(name string, run func(context.Context) error) func() { return e.logged(ctx, name, run) }
	wg.Go(logged("collector", plain(e.collector.Run)))
	wg.Go(logged("store pruning", plain(func(ctx context.Context) {
		prune(ctx, e.store, e.spec, e.incidents, e.logger.With("component", "store"))
	})))
	wg.Go(logged("alarm engine", e.alarms.Run))
	if e.maint != nil {
		wg.Go(logged("maintenance scheduler", plain(e.maint.scheduler.Run)))
		if !e.maint.monitor.Idle() {
			wg.Go(logged("query monitoring", plain(e.maint.monitor.Run)))
		}
	}
	if len(e.spec.Windows) > 0 {
		if ws, err := maintain.NewWindows(e.spec, e.store, e.logger.With("component", "maintain")); err == nil {
			wg.Go(logged("maintenance windows", plain(ws.Run)))
		} else {
			e.logger.Error("maintenance windows are off", "err", err)
		}
	}
	wg.Go(logged("alarm actions", plain(e.actor.Run)))
	if e.lease != nil {
		wg.Go(logged("capacity lease", plain(func(ctx context.Context) { e.lease.Run(ctx, leaseCheckEvery) })))
	}
	wg.Go(logged("self-monitoring", plain(e.self.Run)))
	// A running engine that makes no progress is stuck, not well: the
	// readiness and the heartbeat say so, so that someone is paged.
	every := e.spec.Collect.Interval.D()
	e.running.watch(
		progress{name: "collector", last: e.collector.LastCycle, within: 3*every + 30*time.Second},
		progress{name: "alarm engine", last: e.alarms.LastRound, within: 2*e.alarms.Cadence() + 30*time.Second},
	)
}

// logged runs an engine until ctx ends; one that returns before is dead,
// logged at ERROR and reported by /readyz and the heartbeat.
func (e *engines) logged(ctx context.Context, name string, run func(context.Context) error) func() {
	return func() {
		err := run(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("returned")
		}
		e.logger.Error(name+" stopped", "err", err)
		e.running.stop(name, err)
		if e.died != nil {
			e.died(name, err)
		}
	}
}

// well says whether this replica is well (see wellFunc).
func (e *engines) well() func(context.Context) error {
	return wellFunc(e.store.Ping, e.store.Writable, &e.running)
}

// leaseCheckEvery is how often serve looks at the capacity lease: a run
// that ended is lowered within it.
const leaseCheckEvery = 30 * time.Second

// openLease builds the capacity lease manager when the spec has
// capacity.lease, over the collector's connections; nil otherwise.
func openLease(ctx context.Context, s *spec.Spec, st *store.Store, rerunner *runbook.Rerunner, logger *slog.Logger) *lease.Manager {
	if s.Capacity.Lease == nil {
		return nil
	}
	b := lease.Backends{Warehouse: rerunner.Warehouse}
	if x, ok := rerunner.SFN.(lease.Executions); ok {
		b.SFN = x
	}
	if p, ok := rerunner.SFN.(collect.Publisher); ok {
		b.Publisher = p
	}
	m, err := lease.Open(ctx, s, st, b, logger.With("component", "lease"))
	if err != nil {
		logger.Warn("the capacity lease is not watched", "err", err)
		return nil
	}
	return m
}

func (e *engines) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

// openCollector builds the collector over the spec's backends, and the
// pipeline re-runner over the same. A warehouse that cannot be reached is
// not an error here: the collector's health reports it each cycle until it
// comes back.
func openCollector(ctx context.Context, s *spec.Spec, st *store.Store, logger *slog.Logger, reg prometheus.Registerer) (*collect.Collector, *runbook.Rerunner, func(), error) {
	opts := collect.Options{Spec: s, Store: st, Logger: logger.With("component", "collect"), Registerer: reg,
		// Query monitoring and maintenance send SQL too, on their own
		// connections: all of it is dpcops', none of it someone's work.
		OwnStatements: pgwire.Sent}
	rerunner := &runbook.Rerunner{Spec: s}
	closeAll := func() {}
	if w := collect.OpenWarehouse(s); w != nil {
		opts.Warehouse, rerunner.Warehouse = w, w
		closeAll = func() { w.Close() }
	}
	client, err := collect.OpenAWS(ctx, s)
	if err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	if client != nil {
		opts.AWS, rerunner.SFN = client, client
	}
	if opts.Errors, err = collect.OpenErrorLog(ctx, s, "serve"); err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	return collect.New(opts), rerunner, closeAll, nil
}

// openNotify builds the outbox the alarm engine writes to and the worker
// that delivers from it, over one notifier per enabled channel.
func openNotify(ctx context.Context, s *spec.Spec, st *store.Store, logger *slog.Logger, reg prometheus.Registerer, leading func() bool) (*notify.Outbox, *notify.Worker, error) {
	log := logger.With("component", "notify")
	outbox := notify.NewOutbox(notify.OutboxOptions{Spec: s, Logger: log, Store: st})
	notifiers, err := channels.Build(ctx, channels.Options{Spec: s, Store: st})
	if err != nil {
		return nil, nil, fmt.Errorf("channels: %w", err)
	}
	worker, err := notify.NewWorker(notify.WorkerOptions{Spec: s, Store: st, Notifiers: notifiers, Outbox: outbox,
		Logger: log, Registerer: reg, Leading: leading})
	if err != nil {
		return nil, nil, err
	}
	return outbox, worker, nil
}

// maintenance is what runs maintenance and query monitoring in serve.
type maintenance struct {
	runner    *maintain.Runner
	scheduler *maintain.Scheduler
	monitor   *qmr.Monitor
	canceller *qmr.Warehouse
}

func (m *maintenance) close() {
	m.monitor.Close()
	m.runner.Close()
	if m.canceller != nil {
		m.canceller.Close()
	}
}

// openMaintenance builds the maintenance runner and scheduler, the query
// monitor (whose notifications go through the outbox) and a canceller for
// the API. They need SQL: without warehouse.dsn (a CloudWatch-only watch
// of Redshift Serverless) they are off, and serve says so once.
func openMaintenance(s *spec.Spec, st *store.Store, rerunner *runbook.Rerunner, outbox *notify.Outbox, logger *slog.Logger) (*maintenance, func(context.Context, int64) (qmr.Query, error)) {
	log := logger.With("component", "maintain")
	if !s.Warehouse.DSN.IsSet() {
		log.Info("maintenance and query monitoring are off: warehouse.dsn is empty")
		return nil, nil
	}
	busy := capacity.BusyFunc(st, s, time.Now)
	opts := maintain.Options{Spec: s, Store: st, Logger: log, AtMaxCapacity: capacity.AtMaxFunc(st, s, time.Now)}
	if sf, ok := rerunner.SFN.(maintain.StepFunctions); ok {
		opts.StepFunctions = sf
	}
	runner, err := maintain.NewRunner(opts)
	if err != nil {
		log.Warn("maintenance is off", "err", err)
		return nil, nil
	}
	sched, err := maintain.NewScheduler(maintain.SchedulerOptions{Spec: s, Store: st, Runner: runner, Busy: busy, Logger: log})
	if err != nil {
		runner.Close()
		log.Warn("maintenance is off", "err", err)
		return nil, nil
	}
	notifyQuery := func(ctx context.Context, ev qmr.Event) error {
		return st.WriteTx(ctx, func(tx *sql.Tx) error {
			_, err := outbox.EnqueueQuery(ctx, tx, notify.QueryEvent{Rule: ev.Rule, Topics: ev.Topics, ID: ev.ID, Summary: ev.Summary,
				Metric: ev.Metric, Value: ev.Value, Threshold: ev.Threshold, Time: ev.At})
			return err
		})
	}
	mon, err := qmr.New(qmr.Options{Spec: s, Store: st, Logger: logger.With("component", "qmr"), Busy: busy, Notify: notifyQuery})
	if err != nil {
		runner.Close()
		log.Warn("query monitoring is off", "err", err)
		return nil, nil
	}
	m := &maintenance{runner: runner, scheduler: sched, monitor: mon}
	if m.canceller, err = qmr.NewWarehouse(s); err != nil {
		log.Warn("cancelling queries from the API is off", "err", err)
	}
	cancel := func(ctx context.Context, id int64) (qmr.Query, error) {
		if m.canceller == nil {
			return qmr.Query{}, errors.New("no warehouse session to cancel queries")
		}
		return runbook.CancelQuery(ctx, m.canceller, id)
	}
	return m, cancel
}
