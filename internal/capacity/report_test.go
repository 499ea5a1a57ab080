package capacity

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var tokyo = func() *time.Location {
	l, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		panic(err)
	}
	return l
}()

func jst(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, tokyo) }

const redshiftMetrics = `  - name: ComputeCapacity
    source: compute_capacity
    namespace: AWS/Redshift-Serverless
    dimensions: {Workgroup: dpc}
  - name: ComputeSeconds
    source: compute_seconds
    namespace: AWS/Redshift-Serverless
    dimensions: {Workgroup: dpc}
`

const postgresMetrics = `  - name: ComputeCapacity
    source: compute_capacity
    namespace: Custom/DPC
    dimensions: {Environment: local}
`

func testSpec(t *testing.T, engine, metrics, extra string) *spec.Spec {
	t.Helper()
	wh := "  engine: redshift-serverless\n  workgroup: dpc\n  namespace: dpc\n"
	if engine == spec.EnginePostgres {
		wh = "  engine: postgres\n  dsn: postgres://nobody@127.0.0.1:1/none\n"
	}
	y := `platform: dpc-test
timezone: Asia/Tokyo
aws: {region: ap-northeast-1}
warehouse:
` + wh + `capacity:
  base_rpu: 8
  max_rpu: 32
  price_per_rpu_hour: 0.494
  usage_limit: {rpu_hours: 2000, period: monthly, notify_at_percent: 80}
metrics:
` + metrics + extra
	s, diags := spec.Parse("cap.yaml", []byte(y), spec.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatalf("spec: %v", diags.Errors())
	}
	return s
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st := storetest.Open(t)
	return st
}

// day is one day's use: minutes at a level, from an hour of the day.
type stretch struct {
	hour, minutes int
	rpu           float64
}

// seedRedshift stores one-minute ComputeCapacity and ComputeSeconds points
// for each day in [first, last], busy minutes only (CloudWatch has no point
// for an idle minute), and a point of another series at first, as the
// collector's other metrics would: data covers the days from first.
func seedRedshift(t *testing.T, st *store.Store, first, last time.Time, day []stretch) {
	t.Helper()
	batch := []store.Datapoint{{Metric: "ELTExecutionDelay", Time: first, Value: 10}}
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		for _, s := range day {
			for m := 0; m < s.minutes; m++ {
				at := d.Add(time.Duration(s.hour)*time.Hour + time.Duration(m)*time.Minute)
				batch = append(batch,
					store.Datapoint{Metric: "ComputeCapacity", Dims: "Workgroup=dpc", Time: at, Value: s.rpu},
					store.Datapoint{Metric: "ComputeSeconds", Dims: "Workgroup=dpc", Time: at, Value: s.rpu * 60})
			}
		}
	}
	if err := st.InsertDatapoints(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
}

// nightlyBatch: two hours at the 32-RPU max from 02:00, four at 8 RPU from
// 09:00: 96 RPU-hours a day.
var nightlyBatch = []stretch{{2, 120, 32}, {9, 240, 8}}

func build(t *testing.T, s *spec.Spec, st *store.Store, month string, now time.Time, usage UsageSource) *Report {
	t.Helper()
	m, err := ParseMonth(month, s.Location(), now)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Build(context.Background(), Options{Spec: s, Store: st, Now: func() time.Time { return now }, Usage: usage}, m)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRedshiftMonthToDate(t *testing.T) {
	s := testSpec(t, spec.EngineRedshiftServerless, redshiftMetrics, "")
	st := openStore(t)
	seedRedshift(t, st, jst(2026, 11, 1, 0), jst(2026, 11, 15, 0), nightlyBatch)
	r := build(t, s, st, "", jst(2026, 11, 16, 0), nil)
	checks := []struct {
		name      string
		got, want float64
	}{
		{"RPU-hours", r.RPUHours, 1440},
		{"charged", r.ChargedRPUHours, 1440},
		{"cost", r.Cost, 711.36},
		{"forecast", r.ForecastRPUHours, 2880},
		{"forecast cost", r.ForecastCost, 1422.72},
		{"busy hours", r.BusyHours, 90},
		{"at max", r.AtMaxPercent, 33.3},
		{"peak", r.PeakRPU, 32},
		{"limit used", r.Limit.UsedPercent, 72},
		{"limit forecast", r.Limit.ForecastPercent, 144},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if r.Limit.NoticeAt == nil || !r.Limit.NoticeAt.Equal(jst(2026, 11, 17, 16)) {
		t.Errorf("80 %% notice forecast at %v, want 2026-11-17 16:00 JST", r.Limit.NoticeAt)
	}
	if r.Limit.ReachedAt == nil || !r.Limit.ReachedAt.Equal(jst(2026, 11, 21, 20)) {
		t.Errorf("limit forecast at %v, want 2026-11-21 20:00 JST", r.Limit.ReachedAt)
	}
	if r.Source != "stored ComputeSeconds and ComputeCapacity" || r.Queueing.Source != "none" {
		t.Errorf("source %q, queueing %+v", r.Source, r.Queueing)
	}
	want := map[int]Scenario{
		16: {MaxRPU: 16, AtCapPercent: 33.3, SpilledRPUHours: 480, DelayHours: 30, CostLow: 711.36, CostHigh: 711.36, MaxCostPerHour: 7.9},
		32: {MaxRPU: 32, AtCapPercent: 33.3, CostLow: 711.36, CostHigh: 711.36, MaxCostPerHour: 15.81},
		48: {MaxRPU: 48, AtCapPercent: -1, CostLow: 711.36, CostHigh: 948.48, MaxCostPerHour: 23.71},
	}
	if len(r.Scenarios) != 5 {
		t.Fatalf("scenarios %+v", r.Scenarios)
	}
	for _, sc := range r.Scenarios {
		if w, ok := want[sc.MaxRPU]; ok && sc != w {
			t.Errorf("max %d: %+v, want %+v", sc.MaxRPU, sc, w)
		}
	}
	if r.Advice.Verdict != "raise" || r.Advice.MaxRPU != 48 || !strings.Contains(r.Advice.Text, "33.3 % of busy time") {
		t.Errorf("advice %+v", r.Advice)
	}
	golden(t, "redshift-month.txt", r, s)
}

func golden(t *testing.T, name string, r *Report, s *spec.Spec) {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteText(&b, s.Location()); err != nil {
		t.Fatal(err)
	}
	path := "testdata/" + name
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("text report differs from %s (run with -update after checking):\n%s", path, b.String())
	}
}

func TestPostgresReportOverActiveBackends(t *testing.T) {
	s := testSpec(t, spec.EnginePostgres, postgresMetrics, "")
	st := openStore(t)
	// Every minute sampled, idle ones at 0: an hour a day with all 32 slots
	// busy, two hours at 4.
	var batch []store.Datapoint
	for d := jst(2026, 11, 1, 0); d.Before(jst(2026, 11, 4, 0)); d = d.Add(time.Minute) {
		v := 0.0
		switch h := d.Hour(); {
		case h == 1:
			v = 32
		case h == 10 || h == 11:
			v = 4
		}
		batch = append(batch, store.Datapoint{Metric: "ComputeCapacity", Dims: "Environment=local", Time: d, Value: v})
	}
	if err := st.InsertDatapoints(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	r := build(t, s, st, "2026-11", jst(2026, 11, 4, 0), nil)
	if r.RPUHours != 120 || r.BusyHours != 9 || r.AtMaxPercent != 33.3 || r.Unit != "backend" || len(r.Notes) == 0 || !strings.Contains(r.Notes[0], "a backend running a query stands for one RPU") {
		t.Errorf("report: %v RPU-hours, %v busy hours, %v %% at max, unit %q, notes %q", r.RPUHours, r.BusyHours, r.AtMaxPercent, r.Unit, r.Notes)
	}
	if r.Queueing.Source != "none" || !strings.Contains(r.Queueing.Note, "PostgreSQL does not queue") {
		t.Errorf("queueing %+v", r.Queueing)
	}
	if r.Advice.Verdict != "raise" {
		t.Errorf("advice %+v", r.Advice)
	}
}

func TestAdviceToLowerAndNoData(t *testing.T) {
	s := testSpec(t, spec.EngineRedshiftServerless, redshiftMetrics, "")
	st := openStore(t)
	if r := build(t, s, st, "2026-11", jst(2026, 11, 16, 0), nil); r.Advice.Verdict != "unknown" || !strings.HasPrefix(r.Source, "none") {
		t.Errorf("no data: %+v %q", r.Advice, r.Source)
	}
	seedRedshift(t, st, jst(2026, 11, 1, 0), jst(2026, 11, 15, 0), []stretch{{2, 60, 8}})
	r := build(t, s, st, "2026-11", jst(2026, 11, 16, 0), nil)
	if r.Advice.Verdict != "lower" || r.Advice.MaxRPU != 8 || r.Limit.ReachedAt != nil {
		t.Errorf("advice %+v limit %+v", r.Advice, r.Limit)
	}
}

func TestAdviceToKeepUsesTheReviewJobsThreshold(t *testing.T) {
	s := testSpec(t, spec.EngineRedshiftServerless, redshiftMetrics, `maintenance:
  - name: raise-rpu-limit
    action: capacity_review
    mode: manual
    when: {metric: at_max_capacity_percent, comparison: GreaterThanOrEqualToThreshold, threshold: 50}
`)
	st := openStore(t)
	seedRedshift(t, st, jst(2026, 11, 1, 0), jst(2026, 11, 15, 0), nightlyBatch)
	r := build(t, s, st, "2026-11", jst(2026, 11, 16, 0), nil)
	if r.Advice.Verdict != "keep" || !strings.Contains(r.Advice.Text, "review at 50 %") {
		t.Errorf("advice %+v", r.Advice)
	}
}

func TestAPastMonthAndMissingDays(t *testing.T) {
	s := testSpec(t, spec.EngineRedshiftServerless, redshiftMetrics, "")
	st := openStore(t)
	// Data only from the 21st (the store keeps 15 days).
	seedRedshift(t, st, jst(2026, 10, 21, 0), jst(2026, 10, 31, 0), nightlyBatch)
	r := build(t, s, st, "2026-10", jst(2026, 11, 27, 12), nil)
	if !r.AsOf.Equal(jst(2026, 11, 1, 0)) || r.RPUHours != 1056 {
		t.Errorf("as of %v, %v RPU-hours", r.AsOf, r.RPUHours)
	}
	if r.EstimatedUncoveredRPUHours == 0 || len(r.Notes) == 0 || !strings.Contains(r.Notes[0], "no data before") {
		t.Errorf("uncovered %v notes %v", r.EstimatedUncoveredRPUHours, r.Notes)
	}
	if r.ForecastRPUHours != round2(r.RPUHours+r.EstimatedUncoveredRPUHours) {
		t.Errorf("a past month's forecast is its total: %v vs %v", r.ForecastRPUHours, r.RPUHours+r.EstimatedUncoveredRPUHours)
	}
	if _, err := Build(context.Background(), Options{Spec: s, Store: st, Now: func() time.Time { return jst(2026, 11, 27, 0) }}, jst(2026, 12, 1, 0)); err == nil {
		t.Error("a month that has not begun must be refused")
	}
	if _, err := ParseMonth("2026-13", tokyo, time.Now()); err == nil {
		t.Error("month 13")
	}
}

func TestQueriesQueuedSeries(t *testing.T) {
	s := testSpec(t, spec.EngineRedshiftServerless, redshiftMetrics, `  - name: QueriesQueued
    source: sql
    sql: "select 0 as value"
    namespace: Custom/DPC
`)
	st := openStore(t)
	seedRedshift(t, st, jst(2026, 11, 1, 0), jst(2026, 11, 2, 0), nightlyBatch)
	var batch []store.Datapoint
	for i, v := range []float64{0, 0, 3, 5, 0} {
		batch = append(batch, store.Datapoint{Metric: "QueriesQueued", Time: jst(2026, 11, 1, 2).Add(time.Duration(i) * time.Minute), Value: v})
	}
	if err := st.InsertDatapoints(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	r := build(t, s, st, "2026-11", jst(2026, 11, 3, 0), nil)
	if q := r.Queueing; q.Source != "QueriesQueued" || q.QueuedSamplesPercent != 40 || q.MaxQueued != 5 {
		t.Errorf("queueing %+v", q)
	}
	if !strings.Contains(r.Advice.Text, "queries queued too") {
		t.Errorf("advice %q", r.Advice.Text)
	}
}

// fakeUsage stands in for SYS_SERVERLESS_USAGE: the 15th billed with the
// 60-second minimum.
type fakeUsage struct{ from time.Time }

func (f *fakeUsage) Usage(_ context.Context, from, to time.Time) ([]UsageMinute, error) {
	f.from = from
	var out []UsageMinute
	for m := 0; m < 10; m++ {
		out = append(out, UsageMinute{At: jst(2026, 11, 15, 2).Add(time.Duration(m) * 6 * time.Minute), Dur: time.Minute,
			Capacity: 8, ComputeSeconds: 8 * 10, Charged: 8 * 60})
	}
	return out, nil
}

func (f *fakeUsage) Queueing(context.Context, time.Time, time.Time) (*Queueing, error) {
	return &Queueing{Source: "SYS_QUERY_HISTORY.queue_time", Queries: 10, Queued: 2, QueuedPercent: 20}, nil
}

func TestSysServerlessUsageOverlaysTheStore(t *testing.T) {
	s := testSpec(t, spec.EngineRedshiftServerless, redshiftMetrics, "")
	st := openStore(t)
	seedRedshift(t, st, jst(2026, 11, 1, 0), jst(2026, 11, 15, 0), nightlyBatch)
	u := &fakeUsage{}
	r := build(t, s, st, "2026-11", jst(2026, 11, 16, 0), u)
	if !u.from.Equal(jst(2026, 11, 9, 0)) {
		t.Errorf("asked SYS_SERVERLESS_USAGE from %v, want the last 7 days", u.from)
	}
	// Until the 15th 02:00 the store; from then the view's ten short uses.
	wantUsed := 14*96.0 + 10*80.0/3600
	wantCharged := 14*96.0 + 10*480.0/3600
	if r.RPUHours != round2(wantUsed) || r.ChargedRPUHours != round2(wantCharged) || !strings.Contains(r.Source, "SYS_SERVERLESS_USAGE from") {
		t.Errorf("used %v (want %v), charged %v (want %v), source %q", r.RPUHours, round2(wantUsed), r.ChargedRPUHours, round2(wantCharged), r.Source)
	}
	if r.Queueing.Queued != 2 {
		t.Errorf("queueing %+v", r.Queueing)
	}
}

func TestBusy(t *testing.T) {
	s := testSpec(t, spec.EngineRedshiftServerless, redshiftMetrics, "")
	st := openStore(t)
	now := jst(2026, 11, 27, 12)
	say := func(busy bool, at time.Time) {
		v := 0.0
		if busy {
			v = 1
		}
		if err := st.WriteCycle(context.Background(), store.CycleWrite{States: map[string]store.State{collect.StateBusy: {Value: v, Time: at}}}); err != nil {
			t.Fatal(err)
		}
	}
	busy := BusyFunc(st, s, func() time.Time { return now })
	if b, err := busy(context.Background()); err != nil || b {
		t.Errorf("the collector has said nothing: busy %v %v", b, err)
	}
	say(true, now.Add(-2*time.Minute))
	if b, err := busy(context.Background()); err != nil || !b {
		t.Errorf("busy two minutes ago: busy %v %v", b, err)
	}
	say(true, now.Add(-10*time.Minute))
	if b, err := busy(context.Background()); err != nil || b {
		t.Errorf("a word ten minutes old is stale: busy %v %v", b, err)
	}
	say(false, now.Add(-time.Minute))
	if b, err := busy(context.Background()); err != nil || b {
		t.Errorf("idle a minute ago: busy %v %v", b, err)
	}
	pg := testSpec(t, spec.EnginePostgres, postgresMetrics, "")
	if b, _ := Busy(context.Background(), st, pg, now); !b {
		t.Error("PostgreSQL is always awake")
	}
}

func TestReportJSONNames(t *testing.T) {
	s := testSpec(t, spec.EngineRedshiftServerless, redshiftMetrics, "")
	st := openStore(t)
	seedRedshift(t, st, jst(2026, 11, 1, 0), jst(2026, 11, 2, 0), nightlyBatch)
	b, err := json.Marshal(build(t, s, st, "2026-11", jst(2026, 11, 3, 0), nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"month":"2026-11"`, `"rpu_hours":192`, `"forecast_rpu_hours"`, `"usage_limit":{`, `"at_max_percent":33.3`, `"scenarios":[`, `"advice":{"verdict":"raise"`} {
		if !bytes.Contains(b, []byte(k)) {
			t.Errorf("JSON lacks %s: %s", k, b)
		}
	}
}

// TestPerMinuteRPUIsTheLevel: with the per-minute RPU stored, the report's
// level (peak, time at max) is read from it, not from AWS's 30-minute
// average, which smooths a 32-RPU hour down; without it, the average.
func TestPerMinuteRPUIsTheLevel(t *testing.T) {
	perMinute := redshiftMetrics + `  - name: RPUPerMinute
    source: rpu_minute
    namespace: Custom/DPC
    dimensions: {Environment: prod}
`
	s := testSpec(t, spec.EngineRedshiftServerless, perMinute, "")
	st := openStore(t)
	day := jst(2026, 11, 2, 0)
	var batch []store.Datapoint
	for m := 0; m < 60; m++ {
		at := day.Add(2*time.Hour + time.Duration(m)*time.Minute)
		batch = append(batch,
			store.Datapoint{Metric: "ComputeCapacity", Dims: "Workgroup=dpc", Time: at, Value: 16},
			store.Datapoint{Metric: "RPUPerMinute", Dims: "Environment=prod", Time: at, Value: 32})
	}
	if err := st.InsertDatapoints(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	r := build(t, s, st, "", jst(2026, 11, 3, 0), nil)
	if r.PeakRPU != 32 || r.Source != "stored RPUPerMinute" {
		t.Errorf("per minute: peak %v from %q, want 32 from stored RPUPerMinute", r.PeakRPU, r.Source)
	}
	// Without the per-minute series, the 30-minute average.
	s2 := testSpec(t, spec.EngineRedshiftServerless, redshiftMetrics, "")
	if r := build(t, s2, st, "", jst(2026, 11, 3, 0), nil); r.PeakRPU != 16 || r.Source != "stored ComputeCapacity" {
		t.Errorf("average: peak %v from %q", r.PeakRPU, r.Source)
	}
}
