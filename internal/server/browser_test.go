package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"

	"github.com/dpc-learning/dpcops/examples"
	"github.com/dpc-learning/dpcops/internal/server"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// chromium finds the browser: Debian's package, as `make test` installs
// it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium is required in CI: apt-get install -y chromium (make test installs it as root)")
	}
	t.Skip("Chromium is not installed (apt-get install -y chromium); with CI set this test fails instead")
	return ""
}

// seed fills a data directory with three hours of one-minute data for the
// local example's dashboard metrics and a few error lines.
func seed(t *testing.T, dir string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var dps []store.Datapoint
	for i := 0; i < 180; i++ {
		at := now.Add(-time.Duration(180-i) * time.Minute)
		for metric, v := range map[string]float64{
			"ComputeCapacity": float64(i % 7), "QueriesSucceeded": 50, "QueriesFailed": float64(i % 4),
			"DataStorage": 900 + float64(i), "ELTExecutionDelay": float64(i % 45),
		} {
			dps = append(dps, store.Datapoint{Metric: metric, Dims: "Environment=local", Time: at, Value: v})
		}
		if i >= 150 {
			// Rejected rows in the last half hour: Alert-COPY-Error fires.
			dps = append(dps, store.Datapoint{Metric: "CopyErrorCount", Dims: "Environment=local", Time: at, Value: 2})
		}
	}
	err = st.WriteCycle(ctx, store.CycleWrite{Datapoints: dps, Logs: []store.LogLine{
		{Time: now.Add(-time.Minute), Source: "postgres", Severity: "ERROR", Message: `relation "mart.los_by_dpc_v2" does not exist`},
	}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDashboardInABrowser loads the dashboard of a running serve in
// headless Chromium: the five widgets render with data, the console stays
// clean, and the alarms page is a click away.
func TestDashboardInABrowser(t *testing.T) {
	exe := chromium(t)
	data := t.TempDir()
	seed(t, data, time.Now().UTC())
	s, diags := spec.Parse("local-postgres.yaml", examples.LocalPostgres, spec.Options{LookupEnv: func(k string) (string, bool) {
		if k == "DPCOPS_WAREHOUSE_DSN" {
			return "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", true
		}
		return "", false
	}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		err := server.Run(ctx, server.Options{Spec: s, DataDir: data, Listen: "127.0.0.1:0", Version: "test",
			Started: func(a string) { addr <- a }})
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	defer func() { cancel(); wg.Wait() }()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}

	profile := t.TempDir()
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(profile),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1366, 900))...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	bctx, cancelTimeout := context.WithTimeout(bctx, 90*time.Second)
	defer cancelTimeout()

	if _, err := chromedp.Call(bctx, log.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var problems []string
	console := chromedp.Console(bctx)
	wg.Go(func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				mu.Lock()
				problems = append(problems, m.String())
				mu.Unlock()
			}
		}
	})

	count := func(js string) int {
		t.Helper()
		n, err := chromedp.Run(bctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return n
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("section.widget"))); err != nil {
		t.Fatal(err)
	}
	widgets := count(`document.querySelectorAll("section.widget").length`)
	charts := count(`document.querySelectorAll("section.widget-metric svg.chart").length`)
	// The fewest points: the storage chart's, one per hour of three.
	points := count(`Math.min(...[...document.querySelectorAll("section.widget-metric")].map(w =>
		[...w.querySelectorAll("path.series")].reduce((n, p) => n + Number(p.dataset.points), 0)))`)
	logRows := count(`document.querySelectorAll("section.widget-log table.logs tr").length`)
	if widgets != 5 || charts != 4 || points < 3 || logRows != 1 {
		t.Errorf("widgets %d, charts %d, fewest points in a chart %d, log rows %d", widgets, charts, points, logRows)
	}
	// Screenshots of the dashboard and an alarm page in both languages:
	// into $DPCOPS_SCREENSHOTS when set (`make screenshots` regenerates
	// docs/screenshots so), else a temporary directory.
	shots := os.Getenv("DPCOPS_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ name, path, ready string }{
		{"dashboard-en", "/?lang=en", "section.widget"}, {"dashboard-ja", "/?lang=ja", "section.widget"},
		{"alarm-en", "/alarms/Alert-COPY-Error?lang=en", "h1"}, {"alarm-ja", "/alarms/Alert-COPY-Error?lang=ja", "h1"},
	} {
		if err := chromedp.Do(bctx, chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready))); err != nil {
			t.Fatal(err)
		}
		shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		shotPath := filepath.Join(shots, p.name+".png")
		if err := os.WriteFile(shotPath, shot, 0o644); err != nil || len(shot) < 10000 {
			t.Errorf("screenshot %s: %d bytes, %v", shotPath, len(shot), err)
		}
	}
	t.Logf("screenshots in %s", shots)
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/?lang=en"), chromedp.WaitVisible(chromedp.CSS("section.widget"))); err != nil {
		t.Fatal(err)
	}

	// A custom range typed in a browser whose zone is UTC is read in the
	// spec's zone (Asia/Tokyo), not nine hours into the future: the
	// charts still have the last hours' data.
	if _, err := chromedp.Call(bctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "UTC"}); err != nil {
		t.Fatal(err)
	}
	nowJST := time.Now().In(s.Location())
	from, to := nowJST.Add(-2*time.Hour).Format("2006-01-02T15:04"), nowJST.Add(time.Minute).Format("2006-01-02T15:04")
	if zone := count(`new Date(2026, 0, 1).getTimezoneOffset()`); zone != 0 {
		t.Fatalf("the browser's zone is %d minutes off UTC", zone)
	}
	submit := `(() => { const f = document.getElementById("range-form");
		document.getElementById("range").value = "custom";
		f.querySelector("[name=from_local]").value = "` + from + `";
		f.querySelector("[name=to_local]").value = "` + to + `";
		f.requestSubmit(); return 0; })()`
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("section.widget"))); err != nil {
		t.Fatal(err)
	}
	count(submit)
	if err := chromedp.Do(bctx, chromedp.WaitVisible(chromedp.CSS(`#range-form input[name=from_local][value="`+from+`"]`))); err != nil {
		t.Fatalf("the custom range did not come back in the spec's zone: %v", err)
	}
	if custom := count(`[...document.querySelectorAll("section.widget-metric path.series")].reduce((n, p) => n + Number(p.dataset.points), 0)`); custom < 3 {
		t.Errorf("a custom range over the last two hours (Tokyo time, browser in UTC) charts %d points", custom)
	}

	// The language switch works on every page.
	for _, p := range []string{"/", "/alarms", "/notifications", "/maintenance", "/capacity", "/incidents", "/health"} {
		if err := chromedp.Do(bctx, chromedp.Navigate(base+p+"?lang=en"), chromedp.WaitReady(chromedp.CSS(`html[lang="en"]`)),
			chromedp.Click(chromedp.CSS(`.lang a:last-child`)), chromedp.WaitReady(chromedp.CSS(`html[lang="ja"]`))); err != nil {
			t.Fatalf("%s: the language switch: %v", p, err)
		}
		if n := count(`document.querySelector("nav").textContent.includes("ダッシュボード") ? 1 : 0`); n != 1 {
			t.Errorf("%s in Japanese: the navigation is not in Japanese", p)
		}
	}
	// An alarm in ALARM: its chart draws the threshold and shades the
	// ALARM period, and its state timeline shows it.
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/alarms/Alert-COPY-Error?lang=en"), chromedp.WaitVisible(chromedp.CSS("svg.chart"))); err != nil {
		t.Fatal(err)
	}
	if th, band, tl := count(`document.querySelectorAll("svg.chart line.threshold").length`),
		count(`document.querySelectorAll("svg.chart rect.alarm-band").length`),
		count(`document.querySelectorAll("svg.state-timeline rect.state-alarm").length`); th == 0 || band == 0 || tl == 0 {
		t.Errorf("Alert-COPY-Error's page: %d threshold lines, %d ALARM bands, %d ALARM stretches in the timeline", th, band, tl)
	}
	// An expression alarm has a chart of its value.
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/alarms/Review-Query-Failure-Rate?lang=en"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	if n := count(`[...document.querySelectorAll("svg.chart path.series")].filter(p => p.dataset.label.includes("QueriesFailed")).length`); n == 0 {
		t.Error("the expression alarm's page has no chart of its value")
	}

	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`nav a[href="/alarms"]`)), chromedp.WaitVisible(chromedp.CSS("table.alarms"))); err != nil {
		t.Fatal(err)
	}
	if rows := count(`document.querySelectorAll("tr.alarm-row").length`); rows != len(s.Alarms) {
		t.Errorf("alarms page lists %d alarms, want %d", rows, len(s.Alarms))
	}
	cancelBrowser()
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("the browser reported problems:\n%s", strings.Join(problems, "\n"))
	}
}
