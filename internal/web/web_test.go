package web_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/runbook"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
	"github.com/dpc-learning/dpcops/internal/web"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

var now = time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)

type fixture struct {
	t   testing.TB
	srv *httptest.Server
	st  *store.Store
	s   *spec.Spec
}

type options struct {
	// token authorises actions; empty turns them off.
	token string
	// allowedHosts and externalURL are the spec's serve keys.
	allowedHosts []string
	externalURL  string
	rerun        func(context.Context) (string, error)
	// clock is the handler's clock (default: the fixed now).
	clock func() time.Time
	// widgets are added to the default spec's dashboard.
	widgets []spec.Widget
}

// testToken is the token of fixtures whose test acts.
const testToken = "s3cret-token-0123456789"

// newFixture serves the default spec over a store holding three hours of
// one-minute data for the dashboard's metrics (but none for
// DataStorage), a few error lines, and alarm states from the real engine.
func newFixture(t testing.TB, o options) *fixture {
	t.Helper()
	ctx := context.Background()
	s, diags := spec.Default(spec.Options{LookupEnv: func(k string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	s.Serve.AllowedHosts = o.allowedHosts
	s.Serve.ExternalURL = o.externalURL
	s.Dashboard.Widgets = append(s.Dashboard.Widgets, o.widgets...)
	st := storetest.Open(t)
	var dps []store.Datapoint
	for i := 0; i < 180; i++ {
		at := now.Add(-time.Duration(180-i) * time.Minute)
		dps = append(dps,
			store.Datapoint{Metric: "ComputeCapacity", Dims: "Workgroup=dpc-learning", Time: at, Value: float64(8 + i%24)},
			store.Datapoint{Metric: "QueriesSucceeded", Dims: "Workgroup=dpc-learning", Time: at, Value: 40},
			store.Datapoint{Metric: "QueriesFailed", Dims: "Workgroup=dpc-learning", Time: at, Value: float64(i % 3)},
			store.Datapoint{Metric: "ELTExecutionDelay", Dims: "Environment=prod", Time: at, Value: float64(i)},
			store.Datapoint{Metric: "CopyErrorCount", Dims: "Environment=prod", Time: at, Value: 0},
		)
	}
	err := st.WriteCycle(ctx, store.CycleWrite{Datapoints: dps, Logs: []store.LogLine{
		{Time: now.Add(-2 * time.Minute), Source: "postgres", Severity: "ERROR", Message: `relation "mart.los_by_dpc" does not exist`},
		{Time: now.Add(-time.Minute), Source: "postgres", Severity: "ERROR", Message: "division by zero <script>alert(1)</script>"},
	}, Runs: []store.PipelineRun{{Pipeline: "dpc-elt", ID: "nightly-1", Started: now.Add(-100 * time.Minute), Finished: ptr(now.Add(-40 * time.Minute)), Status: "SUCCEEDED"}},
		Health: []store.Health{{Collector: "warehouse", LastRun: now, LastSuccess: now, Duration: 1500 * time.Millisecond, Statements: 7, Datapoints: 900}}})
	if err != nil {
		t.Fatal(err)
	}
	clock := o.clock
	if clock == nil {
		clock = func() time.Time { return now }
	}
	incidents := runbook.NewIncidents(s, st)
	outbox := notify.NewOutbox(notify.OutboxOptions{Spec: s})
	engine, err := alarm.New(alarm.Options{Spec: s, Store: st, Delay: -1, OnTransition: func(ctx context.Context, tx *sql.Tx, tr alarm.Transition) error {
		if err := outbox.OnTransition(ctx, tx, tr); err != nil {
			return err
		}
		return incidents.OnTransition(ctx, tx, tr)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := engine.EvaluateOnce(ctx, now); err != nil {
		t.Fatal(err)
	}
	h, err := web.New(web.Options{Spec: s, Store: st, Alarms: engine, Incidents: incidents, Registry: prometheus.NewRegistry(),
		Notifications: web.StoreNotifications{DB: st.Reader()},
		Ready:         st.Ping, Token: o.token, Now: clock,
		Actions: web.Actions{RerunPipeline: o.rerun, RetryDelivery: func(ctx context.Context, id int64) error {
			return notify.Retry(ctx, st, id, now)
		}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &fixture{t: t, srv: srv, st: st, s: s}
}

func (f *fixture) get(path string, hdr ...string) (int, string, http.Header) {
	f.t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestDashboardShowsTheSeedsWidgets(t *testing.T) {
	f := newFixture(t, options{})
	code, body, hdr := f.get("/")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d", code)
	}
	for _, title := range []string{"RPU in use vs capacity", "Queries succeeded vs failed", "Storage used (MB)", "ELT execution delay (minutes)", "Latest errors"} {
		if !strings.Contains(body, "<h2>"+title+"</h2>") {
			t.Errorf("widget %q missing", title)
		}
	}
	if n := strings.Count(body, `class="chart"`); n != 3 {
		t.Errorf("%d charts drawn, want 3 (storage has no data)", n)
	}
	if n := strings.Count(body, `class="point"`); n < 3*36 {
		t.Errorf("%d points drawn", n)
	}
	if !strings.Contains(body, `class="capacity"`) {
		t.Error("the compute chart has no capacity line")
	}
	if !strings.Contains(body, `<p class="nodata">No data</p>`) {
		t.Error("the storage widget should say No data")
	}
	if !strings.Contains(body, `relation &#34;mart.los_by_dpc&#34; does not exist`) || strings.Contains(body, "<script>alert(1)") {
		t.Error("log lines missing or not escaped")
	}
	if strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Error("the page refers to an external address")
	}
}

func TestJapaneseLabels(t *testing.T) {
	f := newFixture(t, options{})
	code, body, hdr := f.get("/?lang=ja")
	if code != 200 || !strings.Contains(body, "ダッシュボード") || !strings.Contains(body, "データなし") {
		t.Fatalf("%d", code)
	}
	if !strings.Contains(body, "<html lang=\"ja\">") || !strings.Contains(hdr.Get("Set-Cookie"), "lang=ja") {
		t.Errorf("language not switched: %s", hdr.Get("Set-Cookie"))
	}
	_, alarms, _ := f.get("/alarms", "Cookie", "lang=ja")
	if !strings.Contains(alarms, "アラーム") || !strings.Contains(alarms, "Alert-ELT-Delay") {
		t.Error("the cookie keeps the language; alarm names stay as the spec gives them")
	}
	// The language links keep the page's query, and are well formed.
	_, page, _ := f.get("/alarms")
	if !strings.Contains(page, `href="?lang=en"`) || !strings.Contains(page, `href="?lang=ja"`) {
		t.Errorf("language links of a page without a query: %s", between(page, `class="lang"`, "</span>"))
	}
	_, page, _ = f.get("/?range=1d&lang=en")
	if !strings.Contains(page, `href="?lang=ja&amp;range=1d"`) || strings.Contains(page, "?&amp;") {
		t.Errorf("language links of a page with a query: %s", between(page, `class="lang"`, "</span>"))
	}
}

// TestWindowTitles: the window title names the page, dpcops and the
// platform, once.
func TestWindowTitles(t *testing.T) {
	f := newFixture(t, options{})
	for path, want := range map[string]string{
		"/":       "<title>" + f.s.Dashboard.Name + " · dpcops</title>",
		"/alarms": "<title>Alarms · dpcops · " + f.s.Platform + "</title>",
	} {
		if _, body, _ := f.get(path + "?lang=en"); !strings.Contains(body, want) {
			t.Errorf("%s: want %s, got %s", path, want, between(body, "<title>", "</title>"))
		}
	}
}

// between is the text of s from the first from to the next to.
func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	j := strings.Index(s[i:], to)
	if j < 0 {
		return s[i:]
	}
	return s[i : i+j+len(to)]
}

func TestAlarmsAPI(t *testing.T) {
	f := newFixture(t, options{})
	code, body, _ := f.get("/api/v1/alarms")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var rows []struct {
		Name, State, Reason string
		UpdatedAt           *time.Time `json:"updated_at"`
	}
	if err := json.Unmarshal([]byte(body), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(f.s.Alarms) || rows[0].Name != "Alert-ELT-Delay" {
		t.Fatalf("rows %+v", rows)
	}
	// ELT delay reached 179 minutes > 90 on the last two 5-minute periods.
	if rows[0].State != "ALARM" || !strings.Contains(rows[0].Reason, "greater than the threshold (90.0)") || rows[0].UpdatedAt == nil {
		t.Errorf("Alert-ELT-Delay: %+v", rows[0])
	}
	code, body, _ = f.get("/api/v1/alarms/Alert-ELT-Delay")
	var one struct {
		Name    string           `json:"name"`
		History []map[string]any `json:"history"`
	}
	if err := json.Unmarshal([]byte(body), &one); code != 200 || err != nil || one.Name != "Alert-ELT-Delay" || len(one.History) == 0 {
		t.Fatalf("one alarm: %d %v %s", code, err, body)
	}
	// The history speaks the API's snake_case, as every other answer.
	for _, k := range []string{"id", "time", "from", "to", "reason", "reason_data", "episode"} {
		if _, ok := one.History[0][k]; !ok {
			t.Errorf("history item without %q: %v", k, one.History[0])
		}
	}
	if len(one.History[0]) != 7 {
		t.Errorf("history item keys: %v", one.History[0])
	}
	if code, body, _ := f.get("/api/v1/alarms/No-Such-Alarm"); code != 404 || !strings.Contains(body, `"error"`) {
		t.Errorf("unknown alarm: %d %s", code, body)
	}
	if code, _, _ := f.get("/alarms/No-Such-Alarm"); code != 404 {
		t.Errorf("unknown alarm page: %d", code)
	}
	// The alarm's chart explains it: its threshold (90 minutes) and the
	// period it has been in ALARM since, shaded.
	if _, body, _ := f.get("/alarms/Alert-ELT-Delay"); !strings.Contains(body, "<title>threshold 90</title>") ||
		!strings.Contains(body, `class="alarm-band"`) {
		t.Errorf("alarm chart without its threshold or ALARM period: %s", between(body, "<svg", "</svg>"))
	}
	if code, body, _ := f.get("/alarms/Alert-ELT-Delay"); code != 200 || !strings.Contains(body, `class="mark"`) {
		t.Errorf("alarm page should chart the data around each transition: %d", code)
	}
}

func TestDashboardAPIAndRanges(t *testing.T) {
	f := newFixture(t, options{})
	for _, q := range []string{"range=3h", "range=1d", "range=1w", "from=2026-11-27T01:00:00Z&to=2026-11-27T02:00:00Z"} {
		code, body, _ := f.get("/api/v1/dashboard?" + q)
		if code != 200 || !strings.Contains(body, `"widgets":[`) {
			t.Errorf("%s: %d %s", q, code, body)
		}
	}
	for q, want := range map[string]string{
		"range=2y":       "range must be 3h, 1d, 1w or custom",
		"from=yesterday": "from must be an RFC 3339 time",
		"from=2026-11-27T02:00:00Z&to=2026-11-27T01:00:00Z": "must be before",
	} {
		code, body, _ := f.get("/api/v1/dashboard?" + q)
		if code != 400 || !strings.Contains(body, want) {
			t.Errorf("%s: %d %s", q, code, body)
		}
	}
	code, body, _ := f.get("/api/v1/datapoints?metric=QueriesFailed&stat=Sum&period=3600&range=3h")
	var dp struct {
		Points []web.Point `json:"points"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &dp) != nil || len(dp.Points) != 3 || dp.Points[0].V != 60 {
		t.Errorf("datapoints: %d %s", code, body)
	}
	if code, _, _ := f.get("/api/v1/datapoints?metric=Nope"); code != 404 {
		t.Errorf("unknown metric: %d", code)
	}
	if code, _, _ := f.get("/api/v1/datapoints?metric=QueriesFailed&period=0"); code != 400 {
		t.Errorf("bad period: %d", code)
	}
	if code, _, _ := f.get("/?range=forever"); code != 400 {
		t.Errorf("bad range on the page: %d", code)
	}
}

func TestIncidentsPagesAndAPI(t *testing.T) {
	f := newFixture(t, options{})
	code, body, _ := f.get("/api/v1/incidents")
	var list []runbook.Incident
	if code != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list) != 1 || list[0].Alarm != "Alert-ELT-Delay" || !list[0].Open() {
		t.Fatalf("incidents: %d %s", code, body)
	}
	if code, body, _ := f.get("/api/v1/incidents/1"); code != 200 || !strings.Contains(body, `"timeline":[{`) || !strings.Contains(body, "INSUFFICIENT_DATA → ALARM") {
		t.Errorf("incident: %d %s", code, body)
	}
	for path, want := range map[string]int{"/api/v1/incidents/99": 404, "/api/v1/incidents/x": 400, "/incidents/99": 404} {
		if code, _, _ := f.get(path); code != want {
			t.Errorf("%s: %d, want %d", path, code, want)
		}
	}
	if code, body, _ := f.get("/incidents"); code != 200 || !strings.Contains(body, `<a href="/incidents/1">1</a>`) {
		t.Errorf("incidents page: %d", code)
	}
	if code, body, _ := f.get("/incidents/1?lang=ja"); code != 200 || !strings.Contains(body, "タイムライン") || !strings.Contains(body, "対応中") {
		t.Errorf("incident page: %d", code)
	}
}

func TestNotificationsPageAndRetry(t *testing.T) {
	f := newFixture(t, options{token: testToken})
	code, body, _ := f.get("/api/v1/deliveries")
	var rows []notify.Record
	if code != 200 || json.Unmarshal([]byte(body), &rows) != nil || len(rows) == 0 {
		t.Fatalf("deliveries: %d %s", code, body)
	}
	for _, r := range rows {
		if r.Channel != "inbox" || r.State != "pending" {
			t.Errorf("with the other channels off, only the inbox is owed: %+v", r)
		}
	}
	if code, _, _ := f.get("/api/v1/deliveries?state=bogus"); code != 400 {
		t.Errorf("bad state: %d", code)
	}
	id := rows[0].ID
	f.st.WriteTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE outbox SET state = 'failed', status = 410, last_error = 'channel_is_archived' WHERE id = ?`, id)
		return err
	})
	code, body, _ = f.get("/notifications?state=failed")
	if code != 200 || !strings.Contains(body, "channel_is_archived") || !strings.Contains(body, fmt.Sprintf(`action="/notifications/%d/retry?state=failed"`, id)) {
		t.Fatalf("failed deliveries page: %d", code)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Post(f.srv.URL+fmt.Sprintf("/notifications/%d/retry?state=failed", id), "application/x-www-form-urlencoded",
		strings.NewReader("token="+testToken))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry: %d", resp.StatusCode)
	}
	_, body, _ = f.get("/api/v1/deliveries?state=failed")
	if strings.Contains(body, fmt.Sprintf(`"id":%d,`, id)) {
		t.Errorf("the retried delivery is still failed: %s", body)
	}
}

func TestMaintenanceAndCapacityPages(t *testing.T) {
	f := newFixture(t, options{})
	code, body, _ := f.get("/maintenance")
	if code != 200 || strings.Count(body, `class="job-row"`) != len(f.s.Maintenance) || !strings.Contains(body, "need warehouse.dsn") {
		t.Errorf("maintenance page: %d", code)
	}
	// A job that runs after an event says so in each language's order.
	if !strings.Contains(body, "after pipeline_success") {
		t.Error("maintenance page: no job after pipeline_success")
	}
	if _, body, _ := f.get("/maintenance?lang=ja"); !strings.Contains(body, "pipeline_success の後") || strings.Contains(body, "後 pipeline_success") {
		t.Error("maintenance page in Japanese: the event's word order")
	}
	code, body, _ = f.get("/api/v1/capacity")
	var rep struct {
		Month    string  `json:"month"`
		RPUHours float64 `json:"rpu_hours"`
		MaxRPU   int     `json:"max_rpu"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &rep) != nil || rep.Month != "2026-11" || rep.MaxRPU != 32 || rep.RPUHours <= 0 {
		t.Errorf("capacity: %d %s", code, body)
	}
	if code, _, _ := f.get("/api/v1/capacity?month=2026-13"); code != 400 {
		t.Errorf("bad month: %d", code)
	}
	if code, body, _ := f.get("/capacity?lang=ja"); code != 200 || !strings.Contains(body, "キャパシティ · 2026-11") ||
		!strings.Contains(body, "キャパシティリース · 8 → 32 RPU") {
		t.Errorf("capacity page: %d", code)
	}
}

// TestLogsAndHealthAPIsSpeakSnakeCase: every /api/v1 answer uses the same
// key style, and durations are milliseconds.
func TestLogsAndHealthAPIsSpeakSnakeCase(t *testing.T) {
	f := newFixture(t, options{})
	code, body, _ := f.get("/api/v1/logs?limit=5")
	var logs []map[string]any
	if code != 200 || json.Unmarshal([]byte(body), &logs) != nil || len(logs) != 2 || logs[0]["message"] == nil || logs[0]["severity"] != "ERROR" {
		t.Errorf("logs: %d %s", code, body)
	}
	code, body, _ = f.get("/api/v1/health")
	var health struct {
		Store      string           `json:"store"`
		Leading    bool             `json:"leading"`
		Collectors []map[string]any `json:"collectors"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &health) != nil || !health.Leading || health.Store == "" {
		t.Errorf("health: %d %s", code, body)
	}
	hs := health.Collectors
	if len(hs) != 1 || hs[0]["collector"] != "warehouse" || hs[0]["duration_ms"] != 1500.0 || hs[0]["datapoints"] != 900.0 || hs[0]["last_error_at"] != nil {
		t.Errorf("health: %d %s", code, body)
	}
}

// TestNoUnitIsNotAUnit: a metric without a unit ("None", CloudWatch's
// word) shows none on its widget; a real unit shows.
func TestNoUnitIsNotAUnit(t *testing.T) {
	f := newFixture(t, options{})
	_, body, _ := f.get("/?lang=en")
	if strings.Contains(body, "· None<") {
		t.Errorf("a widget says its unit is None: %s", between(body, `class="meta"`, "</p>"))
	}
}

// TestExpressionAlarmHasAChart: an expression alarm's page charts the
// expression's value period by period, as the engine computes it, with
// its threshold: the failure rate of the fixture's hours, 1 failed in 41.
func TestExpressionAlarmHasAChart(t *testing.T) {
	f := newFixture(t, options{})
	a, _ := f.s.Alarm("Review-Query-Failure-Rate")
	_, body, _ := f.get("/alarms/" + a.Name)
	svg := between(body, `<svg class="chart"`, "</svg>")
	if !strings.Contains(svg, `data-label="`+html.EscapeString(a.Expression)+`"`) || !strings.Contains(svg, "<title>threshold 5</title>") {
		t.Fatalf("no chart of the expression: %s", svg)
	}
	// Each hour: 60 failed (0, 1, 2 repeating) of 60 + 2400 queries.
	if !strings.Contains(svg, " · 2.44</title>") {
		t.Errorf("the chart's values are not the failure rate: %s", svg)
	}
}

// TestJapanesePagesShowNoEnglishValues walks every page in Japanese and
// fails on a value dpcops stores in English (a severity, state, kind,
// outcome, action or verdict) shown as a cell's whole text.
func TestJapanesePagesShowNoEnglishValues(t *testing.T) {
	f := newFixture(t, options{})
	english := []string{"critical", "error", "warning", "info", "ALARM", "INSUFFICIENT_DATA",
		"pending", "sending", "sent", "failed", "expired", "trigger", "resolve", "repeat", "notice",
		"transition", "notification", "action", "note", "maintenance",
		"analyze", "vacuum", "vacuum_full", "auto", "manual", "planned", "running", "succeeded", "skipped",
		"missed", "cancelled", "raise", "lower", "keep", "unknown", "active", "ended", "silenced", "inhibited"}
	pages := []string{"/", "/alarms", "/alarms/Alert-ELT-Delay", "/alarms/Review-Query-Failure-Rate",
		"/incidents", "/incidents/1", "/notifications", "/maintenance", "/capacity", "/health", "/silences?all=true"}
	// A silence on the silences page, in each state but planned (the
	// fixture's clock is now).
	for _, d := range []time.Duration{time.Hour, time.Minute} {
		id, err := notify.AddSilence(context.Background(), f.st, notify.Silence{Matchers: []notify.Matcher{{Label: "alarm", Value: "Alert-ELT-Delay"}},
			Starts: now.Add(-2 * time.Hour), Ends: now.Add(d), Comment: "x", Created: now})
		if err != nil {
			t.Fatal(err)
		}
		if d == time.Minute {
			if err := notify.ExpireSilence(context.Background(), f.st, id, now.Add(-time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, p := range pages {
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		code, body, _ := f.get(p + sep + "lang=ja")
		if code != 200 {
			t.Errorf("%s: %d", p, code)
			continue
		}
		for _, w := range english {
			if strings.Contains(body, ">"+w+"<") {
				t.Errorf("%s in Japanese shows %q: %s", p, w, around(body, ">"+w+"<"))
			}
		}
	}
}

// around is the text near the first s in body.
func around(body, s string) string {
	i := strings.Index(body, s)
	return body[max(0, i-80):min(len(body), i+len(s)+40)]
}

// TestCapacityLabelsEstimatesApart: the month's use says what was
// measured and, apart, what was estimated for the days before the data.
func TestCapacityLabelsEstimatesApart(t *testing.T) {
	f := newFixture(t, options{})
	_, body, _ := f.get("/capacity?lang=en")
	used := between(body, "<dt>used</dt>", "</dd>")
	if !strings.Contains(used, "RPU-hours measured + ") || !strings.Contains(used, "RPU-hours estimated (before the data begins)") {
		t.Errorf("month's use: %s", used)
	}
}

// TestAlarmPageHasAStateTimeline: the alarm page draws its states over
// time as one band, the ALARM stretch among them, worded in the page's
// language.
func TestAlarmPageHasAStateTimeline(t *testing.T) {
	f := newFixture(t, options{})
	_, body, _ := f.get("/alarms/Alert-ELT-Delay?lang=ja")
	tl := between(body, `<svg class="state-timeline"`, "</svg>")
	if !strings.Contains(tl, `class="band state-alarm"`) || !strings.Contains(tl, "<title>アラーム ") ||
		!strings.Contains(tl, `class="band state-insufficient_data"`) {
		t.Errorf("state timeline: %s", tl)
	}
}

// TestDashboardMarksIncidents: the dashboard's charts mark an incident
// opened in their range, with its alarm in the tooltip.
func TestDashboardMarksIncidents(t *testing.T) {
	f := newFixture(t, options{})
	_, body, _ := f.get("/?lang=en")
	if !strings.Contains(body, `class="note note-incident"`) || !strings.Contains(body, " · #1 Alert-ELT-Delay</title>") {
		t.Errorf("no incident marked on the charts: %s", between(body, `<svg class="chart"`, "</svg>"))
	}
}

// TestDashboardMarksPipelineRuns: the charts mark a pipeline run's start
// and its end with its outcome, in the page's language, from the runs the
// collector stored (a page view never asks the warehouse).
func TestDashboardMarksPipelineRuns(t *testing.T) {
	f := newFixture(t, options{})
	_, body, _ := f.get("/?lang=ja")
	if !strings.Contains(body, `class="note note-pipeline"`) || !strings.Contains(body, " · dpc-elt nightly-1 ▶</title>") ||
		!strings.Contains(body, " · dpc-elt nightly-1: 成功</title>") {
		t.Errorf("pipeline run not marked on the charts: %s", between(body, `<svg class="chart"`, "</svg>"))
	}
}

// TestDashboardAlarmWidgetHasStateTimelines: an alarm widget draws each
// alarm's states over the charts' range, compactly.
func TestDashboardAlarmWidgetHasStateTimelines(t *testing.T) {
	f := newFixture(t, options{widgets: []spec.Widget{{Type: "alarm", Y: 20, Width: 24, Height: 4,
		Properties: spec.WidgetProperties{Title: "Alarms", Alarms: []string{"Alert-ELT-Delay", "Alert-COPY-Error"}}}}})
	_, body, _ := f.get("/?lang=en")
	list := between(body, `<ul class="alarmlist">`, "</ul>")
	if strings.Count(list, `<svg class="state-timeline"`) != 2 || !strings.Contains(list, `class="band state-alarm"`) {
		t.Errorf("alarm widget: %s", list)
	}
}

func ptr[T any](v T) *T { return &v }

// TestJapaneseCapacityAdviceAndAlarmReason: the Japanese capacity page
// gives its advice in Japanese, and the Japanese alarm page its reason.
func TestJapaneseCapacityAdviceAndAlarmReason(t *testing.T) {
	f := newFixture(t, options{})
	_, body, _ := f.get("/capacity?lang=ja")
	advice := between(body, `<p class="advice">`, "</p>")
	if advice == "" || strings.Contains(advice, "busy time") || strings.Contains(advice, "max_rpu %") || !strings.ContainsAny(advice, "はがをで") {
		t.Errorf("advice: %s", advice)
	}
	_, body, _ = f.get("/alarms/Alert-ELT-Delay?lang=ja")
	if strings.Contains(body, "Threshold Crossed") || !strings.Contains(body, "閾値") {
		t.Errorf("alarm page reason: %s", around(body, "reason"))
	}
}
