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
	"sync"
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
	// Actions are the operator actions the API offers.
	Actions web.Actions
	// StoreDSN, when set, keeps the state in this PostgreSQL database
	// (serve --store); else the spec's store.dsn, else DataDir's SQLite.
	StoreDSN string
	// Rerun, when set, replaces the spec's way of re-running the pipeline
	// (the demo runs its own).
	Rerun func(ctx context.Context) (string, error)
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
	// One serve per SQLite store: a second one is refused with the
	// holder's PID and host (the lock goes with the process, however it
	// ends). Serves that share a PostgreSQL store elect a leader instead.
	dsn := o.StoreDSN
	if dsn == "" {
		dsn = o.Spec.Store.DSN.Reveal()
	}
	st, err := store.Open(ctx, o.DataDir, store.Options{Exclusive: dsn == "", DSN: dsn})
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
	token, tokenFile, err := actionToken(o.Spec, o.DataDir)
	if err != nil {
		ln.Close()
		return err
	}
	e, err := assemble(ctx, o, st, reg, logger)
	if err != nil {
		ln.Close()
		return err
	}
	defer e.close()
	rep := newReplica(st, o, logger)
	handler, err := web.New(web.Options{
		Replica:       rep.status,
		Spec:          o.Spec,
		Store:         st,
		Alarms:        e.alarms,
		Incidents:     e.incidents,
		Notifications: web.StoreNotifications{DB: st.Reader()},
		Jobs:          e.jobs(),
		Actions:       e.actions,
		Logger:        logger.With("component", "web"),
		Registry:      reg,
		Ready:         e.well(),
		Token:         token,
		TokenFile:     tokenFile,
	})
	if err != nil {
		ln.Close()
		return err
	}
	srv := newHTTPServer(handler, logger)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(limitListen(ln, maxConnections)) }()
	var wg sync.WaitGroup
	bg, stopBackground := context.WithCancel(ctx)
	defer func() {
		stopBackground()
		wg.Wait()
	}()
	lost := make(chan error, 1)
	rep.run(bg, &wg, e, lost)
	logger.Info("dpcops serving", "addr", "http://"+ln.Addr().String(), "data", st.Path(),
		"spec", o.Spec.File(), "engine", o.Spec.Warehouse.Engine, "replica", rep.id)
	announceAccess(logger, ln.Addr(), tokenFile)
	if o.Started != nil {
		o.Started(ln.Addr().String())
	}

	var stopErr error
	select {
	case err := <-served:
		return fmt.Errorf("http server: %w", err)
	case stopErr = <-lost:
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return stopErr
}

// newHTTPServer bounds what one client can hold: the time to send its
// headers and its request, to take its answer, and to idle between
// requests, and the size of its headers.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// announceAccess says where the token is, and warns when serve can be
// reached from other hosts.
func announceAccess(logger *slog.Logger, addr net.Addr, tokenFile string) {
	if tokenFile != "" {
		logger.Info("actions need the token in "+tokenFile+" (Authorization: Bearer TOKEN, or sign in at /login)",
			"token_file", tokenFile)
	}
	if !isLoopback(addr) {
		logger.Warn("serve listens beyond loopback: whoever reaches "+addr.String()+
			" can read the dashboard and API (actions still need the token); put it behind TLS and a firewall, "+
			"and list its DNS names in serve.allowed_hosts", "addr", addr.String())
	}
}

// isLoopback reports whether the server listens on a loopback address
// only.
func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

func buildInfo(version string) prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "dpcops_build_info",
		Help: "A metric with value 1, labelled with the dpcops version and Go version.",
	}, []string{"version", "goversion"})
	g.WithLabelValues(version, runtime.Version()).Set(1)
	return g
}
