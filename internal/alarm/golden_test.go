package alarm

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden backtest outputs in testdata/backtest")

// goldenScenarios replay testdata/backtest/NAME.csv through one alarm of
// the default spec and compare with NAME.jsonl. Each file's comments tell
// its story; want restates the transitions it must show (time, from, to),
// so that -update cannot bless a wrong outcome unnoticed.
var goldenScenarios = []struct {
	name, alarm string
	want        []string
}{
	{"elt-delay", "Alert-ELT-Delay", []string{
		"2026-11-27T00:05 INSUFFICIENT_DATA>OK", "2026-11-27T02:05 OK>ALARM", "2026-11-27T02:20 ALARM>OK"}},
	{"copy-error", "Alert-COPY-Error", []string{
		"2026-11-27T00:05 INSUFFICIENT_DATA>OK", "2026-11-27T00:30 OK>ALARM", "2026-11-27T00:35 ALARM>OK",
		"2026-11-27T00:55 OK>ALARM", "2026-11-27T01:10 ALARM>OK"}},
	{"storage-high", "Alert-Storage-High", []string{
		"2026-11-27T01:00 INSUFFICIENT_DATA>OK", "2026-11-27T03:00 OK>ALARM", "2026-11-27T05:00 ALARM>OK"}},
	{"rpu-spike", "Alert-RPU-Spike", []string{
		"2026-11-27T00:01 INSUFFICIENT_DATA>OK", "2026-11-27T00:35 OK>ALARM", "2026-11-27T00:41 ALARM>OK"}},
	{"query-failure", "Alert-Query-Failure", []string{
		"2026-11-27T00:05 INSUFFICIENT_DATA>OK", "2026-11-27T00:55 OK>ALARM", "2026-11-27T01:00 ALARM>OK"}},
	{"query-failure-rate", "Review-Query-Failure-Rate", []string{
		"2026-11-27T01:00 INSUFFICIENT_DATA>OK", "2026-11-27T02:00 OK>ALARM", "2026-11-27T03:00 ALARM>OK"}},
	{"idle-share", "Review-Idle-Share", []string{
		"2026-11-02T00:00 INSUFFICIENT_DATA>OK", "2026-11-03T00:00 OK>ALARM", "2026-11-04T00:00 ALARM>OK"}},
	{"table-skew", "Review-Table-Skew", []string{
		"2026-11-27T01:00 INSUFFICIENT_DATA>OK", "2026-11-27T02:00 OK>ALARM", "2026-11-27T03:00 ALARM>OK"}},
	{"usage-limit", "Review-Usage-Limit", []string{
		"2026-11-30T23:00 INSUFFICIENT_DATA>OK", "2026-12-01T00:00 OK>ALARM", "2026-12-01T01:00 ALARM>OK"}},
	{"capacity-lease", "Alert-Capacity-Lease", []string{
		"2026-11-27T00:05 INSUFFICIENT_DATA>OK", "2026-11-27T01:15 OK>ALARM", "2026-11-27T01:30 ALARM>OK"}},
	{"collector-failing", "dpcops-Collector-Failing", []string{
		"2026-11-27T00:01 INSUFFICIENT_DATA>OK", "2026-11-27T00:23 OK>ALARM", "2026-11-27T00:27 ALARM>OK"}},
	{"deliveries-failing", "dpcops-Deliveries-Failing", []string{
		"2026-11-27T00:05 INSUFFICIENT_DATA>OK", "2026-11-27T00:35 OK>ALARM", "2026-11-27T00:50 ALARM>OK"}},
}

func readDataset(t testing.TB, path string) *Dataset {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ds, err := ReadCSV(path, f)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func summary(ts []Transition) []string {
	out := make([]string, len(ts))
	for i, tr := range ts {
		out[i] = tr.Time.Format("2006-01-02T15:04") + " " + string(tr.From) + ">" + string(tr.To)
	}
	return out
}

func TestGoldenBacktestsOfTheSeedAlarms(t *testing.T) {
	s := defaultSpec(t)
	covered := map[string]bool{}
	for _, sc := range goldenScenarios {
		t.Run(sc.name, func(t *testing.T) {
			covered[sc.alarm] = true
			ds := readDataset(t, filepath.Join("testdata", "backtest", sc.name+".csv"))
			res, err := Replay(s, ds, ReplayOptions{Alarm: sc.alarm})
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(res.Transitions); strings.Join(got, "\n") != strings.Join(sc.want, "\n") {
				t.Errorf("transitions\n got %q\nwant %q", got, sc.want)
			}
			var buf bytes.Buffer
			if err := WriteJSONLines(&buf, res.Transitions); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "backtest", sc.name+".jsonl")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("output differs from %s (go test -update rewrites it):\n%s", golden, buf.String())
			}
		})
	}
	for _, a := range s.Alarms {
		if a.Enabled.On() && !covered[a.Name] {
			t.Errorf("default alarm %s has no golden backtest", a.Name)
		}
	}
}
