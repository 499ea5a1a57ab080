package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/web"
)

// BenchmarkDashboardWeek measures the dashboard API for all widgets over 7
// days of one-minute data (goal p95 < 50 ms), the server-rendered page over
// the same (goal p95 < 100 ms), and the transfer size of the page with its
// assets. Figures go to bench/RESULTS.md.
func BenchmarkDashboardWeek(b *testing.B) {
	ctx := context.Background()
	s, diags := spec.Default(spec.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	st, err := store.Open(ctx, b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	series := map[string]string{
		"ComputeCapacity": "Workgroup=dpc-learning", "QueriesSucceeded": "Workgroup=dpc-learning",
		"QueriesFailed": "Workgroup=dpc-learning", "DataStorage": "Namespace=dpc-learning", "ELTExecutionDelay": "Environment=prod",
		"RPUPerMinute": "Environment=prod",
	}
	const minutes = 7 * 24 * 60
	var dps []store.Datapoint
	for m, dims := range series {
		for i := 0; i < minutes; i++ {
			dps = append(dps, store.Datapoint{Metric: m, Dims: dims, Time: now.Add(-time.Duration(minutes-i) * time.Minute), Value: float64(i % 97)})
		}
	}
	var logs []store.LogLine
	for i := 0; i < 500; i++ {
		logs = append(logs, store.LogLine{Time: now.Add(-time.Duration(i) * time.Minute), Source: "postgres", Severity: "ERROR", Message: "division by zero"})
	}
	if err := st.WriteCycle(ctx, store.CycleWrite{Datapoints: dps, Logs: logs}); err != nil {
		b.Fatal(err)
	}
	h, err := web.New(web.Options{Spec: s, Store: st, Registry: prometheus.NewRegistry(), Ready: st.Ping, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	fetch := func(path string) int {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("%s: %d", path, resp.StatusCode)
		}
		return int(n)
	}
	page := fetch("/?range=1w") + fetch("/static/style.css") + fetch("/static/app.js") + fetch("/static/favicon.svg")
	var lat, pageLat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		fetch("/api/v1/dashboard?range=1w")
		lat = append(lat, time.Since(start))
		start = time.Now()
		fetch("/?range=1w")
		pageLat = append(pageLat, time.Since(start))
	}
	b.StopTimer()
	pct := func(d []time.Duration, p float64) float64 {
		slices.Sort(d)
		return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(lat, 0.5), "p50-ms")
	b.ReportMetric(pct(lat, 0.95), "p95-ms")
	b.ReportMetric(pct(pageLat, 0.95), "page-p95-ms")
	b.ReportMetric(float64(page)/1024, "page-KiB")
	b.ReportMetric(float64(len(dps)), "datapoints")
}
