package server_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/server"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// syncBuffer is a log that serve's goroutines may write at once.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// receiver is a webhook endpoint that keeps what it is sent.
type receiver struct {
	mu   sync.Mutex
	got  []webhookBody
	seen chan struct{}
}

type webhookBody struct {
	Kind     string `json:"kind"`
	DedupKey string `json:"dedup_key"`
	Message  struct {
		Alarm string `json:"alarm"`
		To    string `json:"to"`
	} `json:"message"`
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var b webhookBody
	if err := json.NewDecoder(req.Body).Decode(&b); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	r.mu.Lock()
	r.got = append(r.got, b)
	r.mu.Unlock()
	select {
	case r.seen <- struct{}{}:
	default:
	}
}

// waitFor waits until what holds of the received messages, for at most
// limit; it fails the test with what came instead.
func (r *receiver) waitFor(t *testing.T, limit time.Duration, what string, ok func([]webhookBody) bool) {
	t.Helper()
	deadline := time.After(limit)
	for {
		r.mu.Lock()
		got := append([]webhookBody(nil), r.got...)
		r.mu.Unlock()
		if ok(got) {
			return
		}
		select {
		case <-r.seen:
		case <-time.After(time.Second):
		case <-deadline:
			t.Fatalf("%s: not within %s; received %+v", what, limit, got)
		}
	}
}

func count(got []webhookBody, alarm, to string) int {
	n := 0
	for _, b := range got {
		if b.Message.Alarm == alarm && b.Message.To == to {
			n++
		}
	}
	return n
}

// TestWarehouseOutagePagesOnce: the warehouse stops under a running serve;
// dpcops-Collector-Failing reaches the receiver once its failed cycles
// reach the threshold, and resolves once the warehouse is back; one page,
// one resolve.
func TestWarehouseOutagePagesOnce(t *testing.T) {
	ctx := context.Background()
	cl := pgtest.OwnCluster(t)
	rcv := &receiver{seen: make(chan struct{}, 1)}
	hook := httptest.NewServer(rcv)
	defer hook.Close()
	yaml := `platform: outage
environment: test
warehouse: {engine: postgres, dsn: "${WH}", connect_timeout: 1s, statement_timeout: 2s}
collect: {interval: 1s}
metrics:
  - {name: Connections, source: database_connections}
  - {name: CollectorFailedCycles, source: self_collector_failures}
alarms:
  - name: dpcops-Collector-Failing
    metric: CollectorFailedCycles
    statistic: Maximum
    period: 10s
    comparison: GreaterThanOrEqualToThreshold
    threshold: 3
    severity: critical
    topics: [ops]
topics:
  ops: {subscriptions: [hook]}
channels:
  hook: {type: webhook, url: "${HOOK}"}
`
	s, diags := spec.Parse("outage.yaml", []byte(yaml), spec.Options{LookupEnv: func(k string) (string, bool) {
		switch k {
		case "WH":
			return cl.DSN, true
		case "HOOK":
			return hook.URL, true
		}
		return "", false
	}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var logs syncBuffer
	defer func() {
		if t.Failed() {
			t.Logf("serve's log:\n%s", logs.String())
		}
	}()
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	started := make(chan string, 1)
	var base string
	go func() {
		done <- server.Run(sctx, server.Options{Spec: s, DataDir: t.TempDir(), Listen: "127.0.0.1:0", Version: "test",
			Logger: slog.New(slog.NewTextHandler(&logs, nil)), Started: func(a string) { started <- a }})
	}()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	select {
	case a := <-started:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("serve did not start: %v", err)
	}
	const alarm = "dpcops-Collector-Failing"
	// A few good cycles first, then the outage.
	waitHealthy(t, base)
	if err := cl.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	rcv.waitFor(t, 60*time.Second, "the page for the outage", func(got []webhookBody) bool { return count(got, alarm, "ALARM") == 1 })
	t.Logf("paged %s after the warehouse stopped", time.Since(paused).Round(time.Second))
	if err := cl.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	rcv.waitFor(t, 60*time.Second, "the resolve once the warehouse is back", func(got []webhookBody) bool { return count(got, alarm, "OK") == 1 })
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if n := count(rcv.got, alarm, "ALARM"); n != 1 {
		t.Errorf("%d pages for one outage", n)
	}
	for _, b := range rcv.got {
		if b.Message.Alarm != alarm || !strings.HasSuffix(b.DedupKey, ":1") {
			t.Errorf("unexpected message %+v", b)
		}
	}
}

// waitHealthy waits until serve's warehouse collector has succeeded.
func waitHealthy(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/api/v1/health")
		if err == nil {
			var health struct {
				Collectors []struct {
					Collector   string  `json:"collector"`
					LastSuccess *string `json:"last_success"`
					LastError   string  `json:"last_error"`
				} `json:"collectors"`
			}
			json.NewDecoder(resp.Body).Decode(&health)
			resp.Body.Close()
			for _, h := range health.Collectors {
				if h.Collector == "warehouse" && h.LastSuccess != nil && h.LastError == "" {
					return
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("the warehouse collector never succeeded")
}
