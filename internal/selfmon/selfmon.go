package selfmon

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// Options are the monitor's collaborators.
type Options struct {
	Spec   *spec.Spec
	Store  *store.Store
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Healthy says whether dpcops is well: nil when its store takes
	// writes and its engines run. Nil means always well.
	Healthy func(ctx context.Context) error
	// Client sends the heartbeat (default: a client without redirects).
	Client *http.Client
	// Publisher receives the Heartbeat metric when collect.publish is on;
	// nil: none.
	Publisher collect.Publisher
}

// Monitor runs the checks.
type Monitor struct {
	o   Options
	log *slog.Logger
	// beat is the heartbeat's last state, logged when it changes.
	beat beatState
	// deliveriesErr remembers that counting deliveries failed, so that
	// the failure is logged once, not every minute.
	deliveriesErr bool
	// publishErr remembers that publishing the Heartbeat metric failed.
	publishErr bool
}

// New returns a monitor.
func New(o Options) *Monitor {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Client == nil {
		o.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &Monitor{o: o, log: o.Logger}
}

// deliveriesEvery is how often the failing deliveries are counted: the
// built-in alarm's period is five minutes.
const deliveriesEvery = time.Minute

// CheckDeliveries counts the deliveries that are not getting through and
// stores the count for every metric of the self_deliveries_failing
// source.
func (m *Monitor) CheckDeliveries(ctx context.Context) error {
	var metrics []spec.Metric
	for _, mt := range m.o.Spec.Metrics {
		if mt.Source == spec.SourceDeliveriesFailing {
			metrics = append(metrics, mt)
		}
	}
	if len(metrics) == 0 {
		return nil
	}
	now := m.o.Now()
	n, err := notify.Failing(ctx, m.o.Store.Reader(), now, m.o.Spec.Notify.FailingAttempts)
	if err == nil {
		dps := make([]store.Datapoint, len(metrics))
		for i, mt := range metrics {
			dps[i] = store.Datapoint{Metric: mt.Name, Dims: mt.Dimensions.Canonical(), Time: now, Value: float64(n)}
		}
		err = m.o.Store.InsertDatapoints(ctx, dps)
	}
	switch {
	case err != nil && !m.deliveriesErr:
		m.log.Error("cannot measure failing deliveries", "err", err)
	case err == nil && m.deliveriesErr:
		m.log.Info("failing deliveries measured again")
	}
	m.deliveriesErr = err != nil
	return err
}

// Run checks the deliveries every minute and beats the heartbeat every
// notify.heartbeat.interval until ctx ends.
func (m *Monitor) Run(ctx context.Context) {
	deliveries := time.NewTicker(deliveriesEvery)
	defer deliveries.Stop()
	var beats <-chan time.Time
	if hb := m.o.Spec.Notify.Heartbeat; hb != nil && hb.Enabled.On() {
		t := time.NewTicker(hb.Interval.D())
		defer t.Stop()
		beats = t.C
		m.Beat(ctx)
	}
	m.CheckDeliveries(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-deliveries.C:
			m.CheckDeliveries(ctx)
		case <-beats:
			m.Beat(ctx)
		}
	}
}
