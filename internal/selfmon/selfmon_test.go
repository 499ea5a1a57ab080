package selfmon

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/examples"
	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

var now = time.Date(2026, 12, 3, 3, 0, 0, 0, time.UTC)

func localSpec(t *testing.T, env map[string]string) *spec.Spec {
	t.Helper()
	s, diags := spec.Parse("local.yaml", examples.LocalPostgres, spec.Options{LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return s
}

// TestFailingDeliveriesAreMeasured: failed and expired deliveries of the
// last hour and deliveries still retrying past notify.failing_attempts
// count; older failures, sent ones and early retries do not.
func TestFailingDeliveriesAreMeasured(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.Open(t)
	s := localSpec(t, nil)
	m := New(Options{Spec: s, Store: st, Now: func() time.Time { return now }})
	rows := []struct {
		state    string
		attempts int
		at       time.Time
	}{
		{"failed", 1, now.Add(-10 * time.Minute)},  // counts
		{"failed", 3, now.Add(-2 * time.Hour)},     // too old
		{"expired", 9, now.Add(-30 * time.Minute)}, // counts
		{"pending", 5, now.Add(-time.Minute)},      // retrying past 5: counts
		{"pending", 2, now.Add(-time.Minute)},      // early retry
		{"pending", 0, now.Add(-20 * time.Minute)}, // overdue, never tried: counts
		{"pending", 0, now.Add(-time.Minute)},      // just due
		{"sent", 7, now.Add(-time.Minute)},         // delivered
	}
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		for _, r := range rows {
			at := store.Millis(r.at)
			if _, err := tx.Exec(`INSERT INTO outbox (channel, kind, dedup_key, payload, state, attempts, next_attempt_at, claimed_at, created_at)
				VALUES ('slack', 'trigger', 'k', '{}', ?, ?, ?, ?, ?)`, r.state, r.attempts, at, at, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.CheckDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	pts, err := st.Points(ctx, spec.MetricDeliveriesFailing, "Environment=local", now.Add(-time.Second), now.Add(time.Second))
	if err != nil || len(pts) != 1 || pts[0].Value != 4 {
		t.Errorf("failing deliveries: %+v %v, want one reading of 4", pts, err)
	}
}

// watcher is a heartbeat receiver: healthchecks.io's URL and URL/fail.
type watcher struct {
	mu     sync.Mutex
	pings  []string // path: body
	status int
}

func (w *watcher) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pings = append(w.pings, r.Method+" "+r.URL.Path+": "+string(b))
	if w.status != 0 {
		rw.WriteHeader(w.status)
	}
}

func (w *watcher) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.pings
	w.pings = nil
	return out
}

type publisher struct{ data []aws.Datum }

func (p *publisher) PutMetricData(_ context.Context, ns string, data []aws.Datum) error {
	if ns != "Custom/DPC" {
		return errors.New("namespace " + ns)
	}
	p.data = append(p.data, data...)
	return nil
}

// TestHeartbeatOnlyWhileWell: well, dpcops pings the URL (and publishes
// the Heartbeat metric); unwell (a full disk, a dead engine) it pings
// fail_url with the reason instead; a watcher that cannot be reached is
// said once, without the URL's token.
func TestHeartbeatOnlyWhileWell(t *testing.T) {
	t.Parallel()
	w := &watcher{}
	srv := httptest.NewServer(w)
	defer srv.Close()
	const token = "5f1e0c7a-2b9d-4c3e-9a8f-0d6b7c1e2f3a"
	s := localSpec(t, nil)
	s.Collect.Publish = true
	s.Notify.Heartbeat = &spec.Heartbeat{Enabled: spec.NewEnabled(spec.EnabledTrue), URL: spec.Secret(srv.URL + "/ping/" + token),
		FailURL: spec.Secret(srv.URL + "/ping/" + token + "/fail"), Interval: spec.Duration(time.Minute), Timeout: spec.Duration(5 * time.Second)}
	var unwell error
	var logs bytes.Buffer
	pub := &publisher{}
	m := New(Options{Spec: s, Now: func() time.Time { return now }, Publisher: pub, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Healthy: func(context.Context) error { return unwell }})
	ctx := context.Background()

	for range 2 {
		if err := m.Beat(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := w.take(); len(got) != 2 || got[0] != "POST /ping/"+token+": dpcops is well" {
		t.Errorf("pings while well: %q", got)
	}
	if len(pub.data) != 2 || pub.data[0].MetricName != "Heartbeat" || pub.data[0].Dimensions["Environment"] != "local" {
		t.Errorf("published %+v", pub.data)
	}

	unwell = errors.New("the store refuses writes (3 in a row): database or disk is full")
	if err := m.Beat(ctx); err == nil {
		t.Error("an unwell beat returned no error")
	}
	if got := w.take(); len(got) != 1 || !strings.HasPrefix(got[0], "POST /ping/"+token+"/fail: dpcops is unwell: the store refuses writes") {
		t.Errorf("pings while unwell: %q", got)
	}
	if len(pub.data) != 2 {
		t.Errorf("the Heartbeat metric was published while unwell")
	}
	// Without fail_url, an unwell dpcops pings nothing: the watcher's
	// grace time runs out.
	s.Notify.Heartbeat.FailURL = ""
	m.Beat(ctx)
	if got := w.take(); len(got) != 0 {
		t.Errorf("pings while unwell without fail_url: %q", got)
	}

	unwell = nil
	w.status = http.StatusInternalServerError
	for range 3 {
		if err := m.Beat(ctx); err == nil || strings.Contains(err.Error(), token) {
			t.Errorf("a watcher answering 500: %v", err)
		}
	}
	srv.Close()
	if err := m.Beat(ctx); err == nil || strings.Contains(err.Error(), token) {
		t.Errorf("a watcher gone: %v", err)
	}
	if strings.Contains(logs.String(), token) {
		t.Errorf("the token reached the log:\n%s", logs.String())
	}
	if n := strings.Count(logs.String(), "heartbeat not delivered"); n != 1 {
		t.Errorf("%d log lines for one undelivered spell:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "level=ERROR msg=\"heartbeat withheld"); n != 1 {
		t.Errorf("%d log lines for one unwell spell:\n%s", n, logs.String())
	}
}

func TestMain(m *testing.M) { pgtest.Run(m) }
