package cli

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

const goldenDir = "../alarm/testdata/backtest/"

func TestBacktestPrintsTransitionsAsJSONLines(t *testing.T) {
	r := run(t, "", "backtest", "--data", goldenDir+"elt-delay.csv", "--alarm", "Alert-ELT-Delay")
	want, err := os.ReadFile(goldenDir + "elt-delay.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if r.code != 0 || r.stdout != string(want) || r.stderr != "" {
		t.Fatalf("%+v\nwant stdout:\n%s", r, want)
	}
	for i, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var tr map[string]string
		if err := json.Unmarshal([]byte(line), &tr); err != nil {
			t.Fatalf("line %d %q: %v", i, line, err)
		}
		if len(tr) != 5 || tr["time"] == "" || tr["alarm"] != "Alert-ELT-Delay" || tr["reason"] == "" {
			t.Errorf("line %d: %v", i, tr)
		}
		if i == 0 && tr["from"] != "INSUFFICIENT_DATA" {
			t.Errorf("the first transition must leave INSUFFICIENT_DATA: %v", tr)
		}
	}
}

func TestBacktestEveryEnabledAlarmByDefault(t *testing.T) {
	p := writeFile(t, "rpu.csv", "time,metric,value\n"+
		"2026-11-27T00:00:00Z,RPUPerMinute,30\n2026-11-27T00:01:00Z,RPUPerMinute,30\n2026-11-27T00:02:00Z,RPUPerMinute,30\n"+
		"2026-11-27T00:03:00Z,RPUPerMinute,30\n2026-11-27T00:04:00Z,RPUPerMinute,30\n")
	r := run(t, "", "backtest", "--data", p, "--until", "2026-11-27T00:05:00Z")
	want := []string{
		`{"time":"2026-11-27T00:01:00Z","alarm":"Alert-RPU-Spike","from":"INSUFFICIENT_DATA","to":"OK",`,
		`{"time":"2026-11-27T00:05:00Z","alarm":"Alert-COPY-Error","from":"INSUFFICIENT_DATA","to":"OK",`,
		`{"time":"2026-11-27T00:05:00Z","alarm":"Alert-RPU-Spike","from":"OK","to":"ALARM","reason":"Threshold Crossed: 5 out of the last 5 datapoints [30.0 (27/11/26 00:04:00),`,
		`{"time":"2026-11-27T00:05:00Z","alarm":"Alert-Query-Failure","from":"INSUFFICIENT_DATA","to":"OK",`,
		`{"time":"2026-11-27T00:05:00Z","alarm":"Alert-Capacity-Lease","from":"INSUFFICIENT_DATA","to":"OK",`,
		`{"time":"2026-11-27T00:05:00Z","alarm":"dpcops-Deliveries-Failing","from":"INSUFFICIENT_DATA","to":"OK",`,
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != len(want) {
		t.Fatalf("%+v", r)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d:\n got %s\nwant %s...", i, lines[i], w)
		}
	}
}

func TestBacktestWarnsAboutSkippedRows(t *testing.T) {
	p := writeFile(t, "d.csv", "time,metric,value\n"+
		"2026-11-27T00:00:00Z,RPUPerMinute,8\n"+
		"2026-11-27T00:00:30Z,RPUConsumption,30\n"+
		"2026-11-27T00:01:00Z,RPUPerMinute,NaN\n"+
		"2026-11-27T00:00:00Z,RPUPerMinute,9\n")
	r := run(t, "", "backtest", "--data", p, "--alarm", "Alert-RPU-Spike")
	if r.code != 0 || !strings.Contains(r.stdout, `"to":"OK","reason":"Threshold Crossed: 5 out of the last 5 datapoints [9.0 (27/11/26 00:00:00)]`) {
		t.Fatalf("%+v", r)
	}
	for _, w := range []string{
		"skipped rows whose value is NaN or infinite", "rows=1 first_line=4",
		"skipped rows of a metric the spec does not define", "metric=RPUConsumption rows=1",
		"rows replaced by a later row of the same series and time",
	} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
}

func TestBacktestErrors(t *testing.T) {
	bad := writeFile(t, "bad.csv", "time,metric,value\n2026-11-27T00:00:00Z,RPUPerMinute,8\n2026-11-27T00:01:00Z,RPUPerMinute,lots\n")
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"backtest"}, 2, "dpcops: backtest: --data FILE.csv is required\n"},
		{[]string{"backtest", "--data", bad, "--until", "tomorrow"}, 2, `dpcops: --until: want an RFC 3339 time such as 2026-11-27T03:00:00Z, got "tomorrow"` + "\n"},
		{[]string{"backtest", "--data", bad, "--alarm", "Alert-Nope"}, 2, `dpcops: --alarm: the spec has no alarm "Alert-Nope" (it has Alert-ELT-Delay, `},
		{[]string{"backtest", "--data", "/nonexistent.csv"}, 1, "dpcops: read data: open /nonexistent.csv: no such file or directory\n"},
		// A malformed row: FILE:LINE: message, alone on its line.
		{[]string{"backtest", "--data", bad}, 1, bad + `:3: value "lots" is not a number` + "\n"},
	} {
		r := run(t, "", tc.args...)
		if r.code != tc.code || !strings.HasPrefix(r.stderr, tc.stderr) || r.stdout != "" {
			t.Errorf("%v: got %+v, want exit %d and %q", tc.args, r, tc.code, tc.stderr)
		}
	}
}

// TestBacktestOverCenturies replays two rows two thousand years apart:
// the years between them are one gap, replayed in a few evaluations, and
// the transitions are dated in year 0000, where the row is.
func TestBacktestOverCenturies(t *testing.T) {
	p := writeFile(t, "year.csv", "time,metric,value\n0000-01-01T00:00:00Z,RPUPerMinute,8\n2026-11-27T00:00:00Z,RPUPerMinute,40\n")
	r := run(t, "", "backtest", "--data", p, "--alarm", "Alert-RPU-Spike")
	want := `{"time":"0000-01-01T00:01:00Z","alarm":"Alert-RPU-Spike","from":"INSUFFICIENT_DATA","to":"OK","reason":"Threshold Crossed: 5 out of the last 5 datapoints [8.0 (01/01/00 00:00:00)] were not greater than the threshold (28.0)`
	if r.code != 0 || strings.Count(r.stdout, "\n") != 1 || !strings.HasPrefix(r.stdout, want) {
		t.Fatalf("%+v\nwant %s...", r, want)
	}
}

// TestBacktestQuotesOnlyAnExcerpt feeds values of a megabyte: the error
// for a malformed row and the warning for an unknown metric quote their
// first characters only.
func TestBacktestQuotesOnlyAnExcerpt(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	for _, tc := range []struct {
		name, csv, want string
		code            int
	}{
		{"malformed time", "time,metric,value\n" + long + ",RPUPerMinute,8\n", `:2: time "xxx`, 1},
		{"unknown metric", "time,metric,value\n2026-11-27T00:00:00Z," + long + ",8\n", "skipped rows of a metric the spec does not define", 0},
	} {
		p := writeFile(t, "long.csv", tc.csv)
		r := run(t, "", "backtest", "--data", p)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "x…") || len(r.stderr) > 400 {
			t.Errorf("%s: exit %d, %d bytes of stderr: %.400s", tc.name, r.code, len(r.stderr), r.stderr)
		}
	}
}
