package alarm

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// benchFleet builds n alarms, each on its own metric, and one day of
// one-minute datapoints for each metric (about 2 % of minutes missing).
// Steady metrics wander slowly, so their alarms change state a few times a
// day; flapping ones are noise around the threshold, the worst case, where
// building reasons for tens of transitions per alarm and day dominates.
// The alarms mix the seed's shapes: periods of 1, 5 and 60 minutes, every
// statistic and operator, M of N up to 5, every missing-data treatment,
// and metric math (a scaled ratio, DIFF).
func benchFleet(n int, flapping bool) ([]*compiled, *replayData, int) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := &spec.Spec{}
	stats := []string{"Average", "Maximum", "Sum", "Minimum", "SampleCount", "p99"}
	ops := []string{"GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"}
	treats := []string{"missing", "ignore", "breaching", "notBreaching"}
	periods := []time.Duration{time.Minute, time.Minute, time.Minute, 5 * time.Minute, time.Hour}
	data := &replayData{series: map[Input]series{}}
	day := t0.Truncate(24 * time.Hour)
	points := 0
	for i := range n {
		name := fmt.Sprintf("m%05d", i)
		s.Metrics = append(s.Metrics, spec.Metric{Name: name})
		threshold := float64(rng.IntN(100))
		nn := 1 + rng.IntN(5)
		a := spec.Alarm{Name: "a-" + name, Metric: name, Statistic: stats[i%len(stats)],
			Period: spec.Duration(periods[i%len(periods)]), EvaluationPeriods: nn, DatapointsToAlarm: 1 + rng.IntN(nn),
			Comparison: ops[i%4], Threshold: &threshold, TreatMissingData: treats[(i/4)%4]}
		switch i % 10 {
		case 7:
			a.Metric, a.Expression = "", "100 * "+name+" / 1048576"
		case 8:
			a.Metric, a.Expression = "", "DIFF("+name+")"
		}
		s.Alarms = append(s.Alarms, a)
		var se series
		v := 50.0
		for minute := range 1440 {
			if flapping {
				v = float64(rng.IntN(100))
			} else {
				v = min(max(v+rng.NormFloat64(), 0), 100)
			}
			if rng.IntN(50) == 0 {
				continue
			}
			se.ts = append(se.ts, day.Add(time.Duration(minute)*time.Minute).UnixMilli())
			se.vs = append(se.vs, v)
		}
		data.series[Input{Metric: name}] = se
		points += len(se.ts)
	}
	data.earliest = day.UnixMilli()
	data.latest = day.Add(24*time.Hour - time.Minute).UnixMilli()
	alarms, err := compileAll(s, func(*spec.Alarm) bool { return true })
	if err != nil {
		panic(err)
	}
	return alarms, data, points
}

// BenchmarkEvaluate10kAlarmsDay evaluates 10 000 alarms at every period
// end of one day of one-minute data, as a backtest does, and reports
// datapoints evaluated per second. Run it on one core:
// go test -run '^$' -bench Evaluate10k -cpu 1 ./internal/alarm/
func BenchmarkEvaluate10kAlarmsDay(b *testing.B) {
	for _, flapping := range []bool{false, true} {
		name := "steady"
		if flapping {
			name = "flapping"
		}
		b.Run(name, func(b *testing.B) { benchEvaluate(b, flapping) })
	}
}

func benchEvaluate(b *testing.B, flapping bool) {
	alarms, data, points := benchFleet(10000, flapping)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportAllocs()
	b.ResetTimer()
	transitions := 0
	for b.Loop() {
		ts, _, err := replayAll(alarms, data, time.Time{}, false)
		if err != nil {
			b.Fatal(err)
		}
		transitions = len(ts)
	}
	b.ReportMetric(float64(points)*float64(b.N)/b.Elapsed().Seconds(), "datapoints/s")
	b.ReportMetric(float64(transitions), "transitions")
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "data-heap-MB")
	if kb, ok := peakRSSKB(); ok {
		b.ReportMetric(float64(kb)/1024, "peak-RSS-MB")
	}
}

// BenchmarkReplayYearSpan replays two rows, one in year 0000 and one in
// 2026, through every default alarm, as `dpcops backtest` would: the
// two thousand years between them are one gap, evaluated once per alarm.
// go test -run '^$' -bench YearSpan ./internal/alarm/
func BenchmarkReplayYearSpan(b *testing.B) {
	s := defaultSpec(b)
	const csv = "time,metric,value\n0000-01-01T00:00:00Z,RPUPerMinute,8\n2026-11-27T00:00:00Z,RPUPerMinute,40\n"
	b.ReportAllocs()
	evaluations := 0
	for b.Loop() {
		ds, err := ReadCSV("year.csv", strings.NewReader(csv))
		if err != nil {
			b.Fatal(err)
		}
		res, err := Replay(s, ds, ReplayOptions{})
		if err != nil {
			b.Fatal(err)
		}
		evaluations = res.Evaluations
	}
	b.ReportMetric(float64(evaluations), "evaluations")
}

// peakRSSKB reads the process's peak resident set size (Linux).
func peakRSSKB() (int64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb, err == nil
		}
	}
	return 0, false
}
