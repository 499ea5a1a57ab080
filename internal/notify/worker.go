package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// DefaultPollInterval is how often an idle worker looks for due rows when
// nothing wakes it: a backstop for a missed Kick and the cadence of
// repeat_interval checks and expiry.
const DefaultPollInterval = time.Second

// leaseMargin is added to a channel's timeout to make its claim lease. An
// attempt never outlives the channel's timeout, so a row still in sending
// after the lease was left by a process that died (or another worker that
// lost its store), and may be claimed again.
const leaseMargin = 10 * time.Second

// storeTimeout bounds each store call of the worker.
const storeTimeout = 10 * time.Second

// WorkerOptions configure a Worker.
type WorkerOptions struct {
	Spec  *spec.Spec
	Store *store.Store
	// Notifiers send, by channel name; channels.Build makes them from the
	// spec. A row whose channel has none (the channel is off or was
	// removed) waits and expires after notify.max_age.
	Notifiers map[string]Notifier
	// Outbox, when set, wakes this worker from its OnTransition, and
	// routes the repeats of repeat_interval. Without it the worker routes
	// repeats itself.
	Outbox     *Outbox
	Logger     *slog.Logger
	Clock      Clock
	Registerer prometheus.Registerer
	// PollInterval is the longest an idle worker sleeps (default 1s).
	PollInterval time.Duration
	// Leading reports whether this replica leads (default: always, as on
	// SQLite). Workers run on every replica of a PostgreSQL store and
	// claim apart; only the leader's enqueues the repeats of
	// repeat_interval, so that a repeat is owed once.
	Leading func() bool
	// Jitter returns a random duration in [0, d] (default: math/rand).
	Jitter func(d time.Duration) time.Duration
}

// Worker delivers the outbox: it claims due rows, sends them through
// their channel and marks the outcome. One worker runs per process; on a
// PostgreSQL store the workers of every replica share the outbox: each
// claims rows no other holds (SKIP LOCKED), channel limits are counted in
// the database, and a commit anywhere wakes them all (LISTEN/NOTIFY).
type Worker struct {
	s      *spec.Spec
	st     *store.Store
	ns     map[string]Notifier
	log    *slog.Logger
	clock  Clock
	m      *metrics
	poll   time.Duration
	jitter func(time.Duration) time.Duration
	outbox *Outbox
	leads  func() bool
	chans  map[string]chanConf
	// minLease and maxLease are the shortest and longest channel leases.
	minLease, maxLease time.Duration
	// expireSQL is expireSQL for the store's dialect.
	expireSQL string

	kick    chan struct{}
	results chan result
	wg      sync.WaitGroup

	// lastPass is the Unix nanoseconds of the last pass that claimed
	// without error: serve's readiness sees a worker that is stuck.
	lastPass atomic.Int64

	// The fields below belong to the goroutine in Run or DeliverDue.
	inflight map[string]int
	held     map[int64]bool
	// claimFailing remembers that claiming failed, so that the failure
	// is logged once, not every pass.
	claimFailing    bool
	unmarked        []result
	nextRepeatCheck time.Time
	// nextReleaseCheck paces the look for silences that ended.
	nextReleaseCheck time.Time
	repeating        []*spec.Alarm // repeatingAlarms of the spec
	nextExpire       time.Time
	nextStaleCheck   time.Time
	stats            Stats

	// afterSend, when set (by tests), runs between a send and its mark:
	// the window a crash leaves a row claimed but not marked.
	afterSend func(*Delivery)
}

// chanConf is what the worker needs of a channel.
type chanConf struct {
	limit   int
	timeout time.Duration
	lease   time.Duration
	secrets []string // ChannelSecrets, for scrubbing its errors
}

// Stats counts what DeliverDue did.
type Stats struct {
	Sent, Retried, Failed, Expired, Resent int
}

// result is the outcome of one attempt, waiting to be marked.
type result struct {
	c      claim
	retry  bool
	err    error
	answer Answer
}

// NewWorker returns a worker; it registers its metrics on
// o.Registerer.
func NewWorker(o WorkerOptions) (*Worker, error) {
	if o.Spec == nil || o.Store == nil {
		return nil, errors.New("notify worker: spec and store are required")
	}
	w := &Worker{
		s: o.Spec, st: o.Store, ns: o.Notifiers, log: o.Logger, clock: o.Clock, poll: o.PollInterval,
		jitter: o.Jitter, outbox: o.Outbox, leads: o.Leading, chans: map[string]chanConf{},
		kick: make(chan struct{}, 1), inflight: map[string]int{}, held: map[int64]bool{},
		repeating: repeatingAlarms(o.Spec), expireSQL: expireSQL(o.Store),
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.clock == nil {
		w.clock = alarm.SystemClock
	}
	if w.poll <= 0 {
		w.poll = DefaultPollInterval
	}
	if w.leads == nil {
		w.leads = func() bool { return true }
	}
	if w.jitter == nil {
		w.jitter = randomJitter
	}
	if w.outbox == nil {
		w.outbox = NewOutbox(OutboxOptions{Spec: o.Spec, Logger: w.log, Clock: w.clock})
	}
	w.outbox.setKick(w.Kick)
	total := 0
	for name := range o.Notifiers {
		ch, ok := o.Spec.Channel(name)
		if !ok {
			return nil, fmt.Errorf("notify worker: notifier for %q, which the spec does not define", name)
		}
		c := chanConf{limit: max(ch.Concurrency, 1), timeout: ch.Timeout.D(), secrets: ChannelSecrets(ch)}
		if c.timeout <= 0 {
			c.timeout = spec.DefaultChannelTimeout.D()
		}
		c.lease = c.timeout + leaseMargin
		w.chans[name] = c
		total += c.limit
		if w.minLease == 0 || c.lease < w.minLease {
			w.minLease = c.lease
		}
		w.maxLease = max(w.maxLease, c.lease)
	}
	if w.minLease == 0 {
		w.minLease = spec.DefaultChannelTimeout.D() + leaseMargin
		w.maxLease = w.minLease
	}
	// Room for every possible attempt in flight: a finished send never
	// waits to hand in its result.
	w.results = make(chan result, total+1)
	m, err := newMetrics(o.Registerer, o.Store.Reader())
	if err != nil {
		return nil, fmt.Errorf("notify metrics: %w", err)
	}
	w.m = m
	return w, nil
}

// Kick wakes the worker to look for due rows now. It never blocks.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for the attempts in flight
// (each bounded by its channel's timeout) and marks them, and returns nil.
// Only one Run or DeliverDue may run at a time.
func (w *Worker) Run(ctx context.Context) error {
	w.log.Info("notification worker started", "channels", len(w.ns), "poll", w.poll)
	defer w.drain(ctx)
	// Commits on other replicas wake this worker (PostgreSQL); the
	// listener ends with ctx, before drain marks the last attempts.
	lctx, stopListening := context.WithCancel(ctx)
	var listening sync.WaitGroup
	listening.Go(func() { w.st.Listen(lctx, WakeTopic, w.Kick, w.log) })
	defer listening.Wait()
	defer stopListening()
	kicked := false
	for ctx.Err() == nil {
		next, _ := w.pass(ctx, kicked)
		kicked = false
		wait := w.poll
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(w.clock.Now()), 0))
		}
		select {
		case <-ctx.Done():
		case <-w.kick:
			kicked = true
		case r := <-w.results:
			w.collect(r)
		case <-w.clock.After(wait):
		}
	}
	return nil
}

// LastPass returns when the worker last claimed without error (zero
// before its first pass).
func (w *Worker) LastPass() time.Time {
	if n := w.lastPass.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// PollInterval is how often the worker looks for due deliveries.
func (w *Worker) PollInterval() time.Duration { return w.poll }

// DeliverDue makes every attempt that is due now and waits for them, as
// many rounds as it takes until nothing is due: for tests and one-shot
// commands. It returns what it did.
func (w *Worker) DeliverDue(ctx context.Context) (Stats, error) {
	w.stats = Stats{}
	for {
		_, claimed := w.pass(ctx, false)
		if claimed == 0 && w.inFlight() == 0 {
			break
		}
		select {
		case <-ctx.Done():
			w.drain(ctx)
			return w.stats, ctx.Err()
		case r := <-w.results:
			w.collect(r)
		}
	}
	err := w.markAll(ctx)
	return w.stats, err
}

// pass enqueues due repeats, marks finished attempts, and claims and
// starts due rows. It returns when the next pending row falls due (zero
// if none) and how many rows it claimed. A kicked pass claims through the
// store's writer without looking first (see claim).
func (w *Worker) pass(ctx context.Context, kicked bool) (time.Time, int) {
	now := w.clock.Now()
	// Held notifications first: one released now is an announcement, so
	// no repeat is owed for its episode in the same pass.
	if !now.Before(w.nextReleaseCheck) {
		w.nextReleaseCheck = now.Add(w.poll)
		if _, err := w.releaseHeld(ctx, now); err != nil {
			w.log.Error("release held notifications", "err", err)
		}
	}
	if err := w.repeats(ctx, now); err != nil {
		w.log.Error("repeat notifications", "err", err)
	}
	claims, next, err := w.claim(ctx, now, kicked)
	switch {
	case err != nil && ctx.Err() == nil && !w.claimFailing:
		w.log.Error("cannot mark or claim deliveries; trying again every pass", "err", err)
	case err == nil && w.claimFailing:
		w.log.Info("deliveries are claimed again")
	}
	w.claimFailing = err != nil && ctx.Err() == nil
	if err == nil {
		w.lastPass.Store(time.Now().UnixNano())
	}
	for _, c := range claims {
		w.start(ctx, c)
	}
	return next, len(claims)
}

// start sends one claimed delivery in its own goroutine.
func (w *Worker) start(ctx context.Context, c claim) {
	w.inflight[c.d.Channel]++
	w.held[c.d.ID] = true
	n := w.ns[c.d.Channel]
	conf := w.chans[c.d.Channel]
	w.wg.Go(func() {
		// An attempt in flight when Run's context ends still finishes
		// (within the channel's timeout) and is marked: cancelling it
		// would only turn a delivery into an unknown.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), conf.timeout)
		t0 := time.Now()
		retry, err := safeNotify(sctx, n, c.d)
		cancel()
		w.m.attempt.WithLabelValues(c.d.Channel).Observe(time.Since(t0).Seconds())
		if w.afterSend != nil {
			w.afterSend(c.d)
		}
		w.results <- result{c: c, retry: retry, err: err, answer: c.d.Answer}
	})
}

// safeNotify turns a panicking notifier into a failed attempt that is
// retried, so that one bad integration cannot take the worker down.
func safeNotify(ctx context.Context, n Notifier, d *Delivery) (retry bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			retry, err = true, fmt.Errorf("%s: notifier panicked: %v", d.Channel, p)
		}
	}()
	return n.Notify(ctx, d)
}

func (w *Worker) inFlight() int {
	n := 0
	for _, v := range w.inflight {
		n += v
	}
	return n
}

// collect takes a finished attempt and any others that are ready. Their
// channels' slots are free again; their rows stay held until marked.
func (w *Worker) collect(r result) {
	for {
		w.unmarked = append(w.unmarked, r)
		w.inflight[r.c.d.Channel]--
		select {
		case r = <-w.results:
		default:
			return
		}
	}
}

// drain waits for the attempts in flight and marks them, with a context
// of its own: it runs when the caller's has ended. The results channel
// has room for every attempt, so no sender blocks while it waits.
func (w *Worker) drain(parent context.Context) {
	w.wg.Wait()
	for w.inFlight() > 0 {
		w.collect(<-w.results)
	}
	// WithoutCancel keeps what the caller's context carries but not its
	// end.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), storeTimeout)
	defer cancel()
	if err := w.markAll(ctx); err != nil {
		w.log.Error("cannot mark deliveries at shutdown; they will be sent again after the lease", "err", err)
	}
}
