package alarm

import (
	"strings"
	"testing"
	"time"
)

func replayCSV(t *testing.T, csv string, o ReplayOptions) *ReplayResult {
	t.Helper()
	ds, err := ReadCSV("t.csv", strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Replay(parseSpec(t, loadSpec), ds, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestReplayBadInput(t *testing.T) {
	const head = "time,metric,value,dimensions\n"
	for _, tc := range []struct {
		name, csv string
		want      []string
		unknown   map[string]int
		replaced  int
	}{
		{"in order", head +
			"2026-11-27T03:00:10Z,Load,20,\n2026-11-27T03:01:10Z,Load,20,\n2026-11-27T03:02:10Z,Load,1,\n",
			[]string{"2026-11-27T03:02 INSUFFICIENT_DATA>ALARM", "2026-11-27T03:03 ALARM>OK"}, nil, 0},
		// Rows in any order replay as if sorted.
		{"out of order", head +
			"2026-11-27T03:02:10Z,Load,1,\n2026-11-27T03:00:10Z,Load,20,\n2026-11-27T03:01:10Z,Load,20,\n",
			[]string{"2026-11-27T03:02 INSUFFICIENT_DATA>ALARM", "2026-11-27T03:03 ALARM>OK"}, nil, 0},
		// Of two rows of one series at one time, the later row wins, as
		// the store keeps the last write; so 20 stands here...
		{"duplicate, later breaches", head +
			"2026-11-27T03:00:10Z,Load,20,\n2026-11-27T03:01:10Z,Load,1,\n2026-11-27T03:01:10Z,Load,20,Host=a\n",
			[]string{"2026-11-27T03:02 INSUFFICIENT_DATA>ALARM"}, nil, 1},
		// ...and 1 here.
		{"duplicate, later does not", head +
			"2026-11-27T03:00:10Z,Load,20,\n2026-11-27T03:01:10Z,Load,20,\n2026-11-27T03:01:10Z,Load,1,\n",
			[]string{"2026-11-27T03:02 INSUFFICIENT_DATA>OK"}, nil, 1},
		// One millisecond is one instant, as in the store: of two rows
		// 0.3 ms apart the later one in the file stands alone.
		{"duplicate within a millisecond", head +
			"2026-11-27T03:00:10Z,Load,20,\n2026-11-27T03:01:10.0004Z,Load,20,\n2026-11-27T03:01:10.0001Z,Load,1,\n",
			[]string{"2026-11-27T03:02 INSUFFICIENT_DATA>OK"}, nil, 1},
		// Unknown metrics are skipped and counted, and do not move the
		// first evaluation earlier.
		{"unknown metric", head +
			"2026-11-27T02:00:00Z,Nope,1,\n2026-11-27T03:00:10Z,Load,20,\n2026-11-27T03:01:10Z,Load,20,\n2026-11-27T03:01:20Z,Nope,1,\n",
			[]string{"2026-11-27T03:02 INSUFFICIENT_DATA>ALARM"}, map[string]int{"Nope": 2}, 0},
		// Rows of other dimensions are another series: the alarm reads
		// Host=a (the metric's own dimensions, also meant by none).
		{"other dimensions", head +
			"2026-11-27T03:00:10Z,Load,20,Host=b\n2026-11-27T03:01:10Z,Load,20,Host=b\n2026-11-27T03:01:10Z,Load,1,\n",
			[]string{"2026-11-27T03:02 INSUFFICIENT_DATA>OK"}, nil, 0},
		{"nothing known", head + "2026-11-27T03:00:10Z,Nope,1,\n", nil, map[string]int{"Nope": 1}, 0},
	} {
		res := replayCSV(t, tc.csv, ReplayOptions{})
		if got := summary(res.Transitions); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: transitions %q, want %q", tc.name, got, tc.want)
		}
		if len(res.Unknown) != len(tc.unknown) || res.Replaced != tc.replaced {
			t.Errorf("%s: unknown %v replaced %d, want %v and %d", tc.name, res.Unknown, res.Replaced, tc.unknown, tc.replaced)
		}
		for k, v := range tc.unknown {
			if res.Unknown[k] != v {
				t.Errorf("%s: unknown %v, want %v", tc.name, res.Unknown, tc.unknown)
			}
		}
	}
}

func TestReplayUntil(t *testing.T) {
	csv := "time,metric,value\n2026-11-27T03:00:10Z,Load,20\n2026-11-27T03:01:10Z,Load,20\n"
	// By default replay ends with the period of the latest row (03:02).
	if got := summary(replayCSV(t, csv, ReplayOptions{}).Transitions); strings.Join(got, "|") != "2026-11-27T03:02 INSUFFICIENT_DATA>ALARM" {
		t.Errorf("default until: %q", got)
	}
	// A later --until shows what missing data does next: with "missing"
	// the alarm holds while a datapoint is in its 4-period range, then
	// becomes INSUFFICIENT_DATA.
	got := summary(replayCSV(t, csv, ReplayOptions{Until: time.Date(2026, 11, 27, 3, 10, 30, 0, time.UTC)}).Transitions)
	if want := "2026-11-27T03:02 INSUFFICIENT_DATA>ALARM|2026-11-27T03:06 ALARM>INSUFFICIENT_DATA"; strings.Join(got, "|") != want {
		t.Errorf("until 03:10:30: %q, want %q", got, want)
	}
	// An earlier one stops before.
	if got := replayCSV(t, csv, ReplayOptions{Until: time.Date(2026, 11, 27, 3, 1, 59, 0, time.UTC)}).Transitions; len(got) != 0 {
		t.Errorf("until 03:01:59: %q", summary(got))
	}
}

func TestReplayAlarmSelection(t *testing.T) {
	csv := "time,metric,value\n2026-11-27T03:00:10Z,Other,5\n2026-11-27T03:00:20Z,Load,20\n"
	// Every enabled alarm by default; the disabled one is left out.
	res := replayCSV(t, csv, ReplayOptions{})
	if len(res.Transitions) != 0 {
		t.Errorf("default: %q", summary(res.Transitions))
	}
	// Named, a disabled alarm is evaluated: tuning it is why one asks.
	res = replayCSV(t, csv, ReplayOptions{Alarm: "Off"})
	if len(res.Transitions) != 1 || res.Transitions[0].Alarm != "Off" || res.Transitions[0].To != Alarm {
		t.Errorf("--alarm Off: %+v", res.Transitions)
	}
	ds, _ := ReadCSV("t.csv", strings.NewReader(csv))
	if _, err := Replay(parseSpec(t, loadSpec), ds, ReplayOptions{Alarm: "Nope"}); err == nil || !strings.Contains(err.Error(), `no alarm named "Nope"`) {
		t.Errorf("unknown alarm: %v", err)
	}
}

func TestReplayOrdersTransitionsByTimeThenSpec(t *testing.T) {
	s := defaultSpec(t)
	ds, err := ReadCSV("t.csv", strings.NewReader("time,metric,value\n2026-11-27T03:00:00Z,QueriesFailed,0\n"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Replay(s, ds, ReplayOptions{Until: time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tr := range res.Transitions {
		got = append(got, tr.Time.Format("15:04")+" "+tr.Alarm)
	}
	// Alarms with notBreaching become OK at their first period end; at one
	// time the spec's order holds.
	want := "03:01 Alert-RPU-Spike|03:05 Alert-COPY-Error|03:05 Alert-Query-Failure|03:05 Alert-Capacity-Lease|03:05 dpcops-Deliveries-Failing|04:00 Review-Query-Failure-Rate"
	if strings.Join(got, "|") != want {
		t.Errorf("order\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
}
