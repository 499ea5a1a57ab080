// Package web serves dpcops over HTTP: the dashboard and its pages
// (server-rendered HTML, charts drawn as SVG in Go, no external requests),
// the JSON API under /api/v1, the health and readiness probes, and
// Prometheus metrics of dpcops itself.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

//go:embed static templates
var assets embed.FS

// AlarmSource is what the UI reads of the alarm engine.
type AlarmSource interface {
	States(ctx context.Context) ([]alarm.Status, error)
	History(ctx context.Context, alarm string, limit int) ([]alarm.Transition, error)
}

// Actions are what an operator may ask for through the API. A nil action
// answers 501.
type Actions struct {
	RerunPipeline func(ctx context.Context) (string, error)
	RetryDelivery func(ctx context.Context, id int64) error
	CancelQuery   func(ctx context.Context, id int64) error
}

// Options are the collaborators of the web handler.
type Options struct {
	Spec          *spec.Spec
	Store         *store.Store
	Alarms        AlarmSource
	Incidents     IncidentSource
	Notifications NotificationSource
	// Jobs is the maintenance scheduler; nil when maintenance is off.
	Jobs     JobSource
	Actions  Actions
	Logger   *slog.Logger
	Registry *prometheus.Registry
	// Ready reports whether dpcops can serve: nil when it can.
	Ready func(context.Context) error
	// Token authorises actions; empty turns every action off. serve
	// always sets one: the spec's serve.token, else one it made.
	Token string
	// TokenFile is where an operator finds the token serve made, shown
	// on the sign-in page; empty when the token comes from the spec.
	TokenFile string
	// Replica says which serve this is and which leads; nil: the one
	// serve of an SQLite store, which always leads.
	Replica func() Replica
	// Now is the clock (default time.Now).
	Now func() time.Time
}

type handler struct {
	o     Options
	guard *guard
	pages map[string]*pageTemplate
}

// New returns the handler of dpcops' HTTP server.
func New(o Options) (http.Handler, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{o: o, guard: newGuard(o.Token, o.Spec.Serve.AllowedHosts, o.Spec.Serve.ExternalURL, o.Now)}
	if err := h.parseTemplates(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", h.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.Registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(o.Logger.Handler(), slog.LevelError),
	}))
	mux.Handle("GET /static/{file}", staticFiles())
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})
	h.pageRoutes(mux)
	h.apiRoutes(mux)
	h.silenceRoutes(mux)
	h.loginRoutes(mux)
	// Browsers send Sec-Fetch-Site and Origin: a POST from another site is
	// refused, which makes the forms and the sign-in CSRF-safe.
	return h.guard.wrap(http.NewCrossOriginProtection().Handler(mux)), nil
}

func (h *handler) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := h.o.Ready(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("not ready: " + err.Error() + "\n"))
		return
	}
	w.Write([]byte("ready\n"))
}

// refuse answers an action that authorize turned down.
func refuse(w http.ResponseWriter, err error, asJSON bool) {
	status := http.StatusForbidden
	if errors.Is(err, errUnauthorized) {
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Bearer realm="dpcops"`)
	}
	if asJSON {
		apiError(w, status, err.Error())
		return
	}
	http.Error(w, err.Error(), status)
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// apiError answers {"error": message}.
func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
