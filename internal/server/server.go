// Package server runs `dpcops serve`: it opens the store, starts the
// engines the spec asks for, and serves HTTP until its context ends.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/web"
)

// Options configure Run.
type Options struct {
	Spec    *spec.Spec
	DataDir string
	// Listen is the HTTP address; "" uses the spec's serve.listen.
	Listen  string
	Logger  *slog.Logger
	Version string
	// Started, if set, receives the address the server listens on once it
	// serves.
	Started func(addr string)
}

// shutdownTimeout bounds the wait for in-flight requests at shutdown.
const shutdownTimeout = 10 * time.Second

// Run serves until ctx is done, then shuts down cleanly: in-flight requests
// finish, the store closes. It returns an error only if it cannot start or
// stops abnormally.
func Run(ctx context.Context, o Options) error {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	addr := o.Listen
	if addr == "" {
		addr = o.Spec.Serve.Listen
	}
	// Listen before touching the data directory, so that a port in use
	// leaves nothing behind.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	st, err := store.Open(ctx, o.DataDir, store.Options{})
	if err != nil {
		ln.Close()
		return err
	}
	defer st.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(o.Version),
	)
	srv := &http.Server{
		Handler: web.New(web.Options{
			Logger:   logger,
			Registry: reg,
			Ready:    st.Ping,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("dpcops serving", "addr", "http://"+ln.Addr().String(), "data", st.Path(),
		"spec", o.Spec.File(), "engine", o.Spec.Warehouse.Engine)
	if o.Started != nil {
		o.Started(ln.Addr().String())
	}

	select {
	case err := <-served:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

func buildInfo(version string) prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "dpcops_build_info",
		Help: "A metric with value 1, labelled with the dpcops version and Go version.",
	}, []string{"version", "goversion"})
	g.WithLabelValues(version, runtime.Version()).Set(1)
	return g
}
