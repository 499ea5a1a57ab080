package alarm

import (
	"bytes"
	"context"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// TestEngineAgreesWithReplay runs every golden scenario through the
// serve engine, reading datapoints from a real store at each period
// boundary, and checks that it makes exactly the transitions the
// in-memory replay makes, with the same reasons and episodes.
func TestEngineAgreesWithReplay(t *testing.T) {
	for _, sc := range goldenScenarios {
		t.Run(sc.name, func(t *testing.T) {
			ds := readDataset(t, filepath.Join("testdata", "backtest", sc.name+".csv"))
			engineAgreesWithReplay(t, defaultSpec(t), sc.alarm, ds)
		})
	}
}

// TestEngineAgreesWithReplayAcrossGaps replays data with a gap longer
// than an alarm's span through a DIFF alarm. The engine reads only the
// span, so the first datapoint after the gap has no earlier one to
// differ from; the replay must not reach back past the span either, or a
// backtest would alarm where serve stays OK.
func TestEngineAgreesWithReplayAcrossGaps(t *testing.T) {
	// Alert-Query-Failure: DIFF(QueriesFailed) > 0 on 3 of 3 five-minute
	// periods. After 25 minutes without data the count rises twice: two
	// differences, not the three that a difference across the gap makes.
	ds, err := ReadCSV("gap.csv", strings.NewReader("time,metric,value\n"+
		"2026-11-27T00:00:00Z,QueriesFailed,0\n2026-11-27T00:30:00Z,QueriesFailed,5\n"+
		"2026-11-27T00:35:00Z,QueriesFailed,6\n2026-11-27T00:40:00Z,QueriesFailed,7\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := engineAgreesWithReplay(t, defaultSpec(t), "Alert-Query-Failure", ds)
	if want := "2026-11-27T00:05 INSUFFICIENT_DATA>OK"; strings.Join(summary(got), "|") != want {
		t.Errorf("transitions %q, want %q", summary(got), want)
	}
}

// engineAgreesWithReplay evaluates one alarm of full over ds with the
// engine, at every period end from the first datapoint's to the last's,
// and with Replay, checks that both make the same transitions, and
// returns them.
func engineAgreesWithReplay(t *testing.T, full *spec.Spec, alarm string, ds *Dataset) []Transition {
	t.Helper()
	res, err := Replay(full, ds, ReplayOptions{Alarm: alarm, ReasonData: true})
	if err != nil {
		t.Fatal(err)
	}
	// A spec with the one alarm, so that the engine evaluates it alone.
	s := *full
	a, _ := full.Alarm(alarm)
	s.Alarms = append(s.Alarms[:0:0], *a)
	st := storetest.Open(t)
	var dps []store.Datapoint
	var earliest, latest time.Time
	for i, r := range ds.Rows {
		dims := r.Dims
		if m, _ := s.Metric(r.Metric); dims == "" {
			dims = m.Dimensions.Canonical()
		}
		dps = append(dps, store.Datapoint{Metric: r.Metric, Dims: dims, Time: r.Time, Value: r.Value})
		if i == 0 || r.Time.Before(earliest) {
			earliest = r.Time
		}
		if i == 0 || r.Time.After(latest) {
			latest = r.Time
		}
	}
	if err := st.InsertDatapoints(context.Background(), dps); err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Spec: &s, Store: st, Delay: -1})
	if err != nil {
		t.Fatal(err)
	}
	p := a.Period.D()
	var got []Transition
	for now := earliest.Truncate(p).Add(p); !now.After(latest.Truncate(p).Add(p)); now = now.Add(p) {
		got = append(got, evalAt(t, e, now)...)
	}
	if len(got) != len(res.Transitions) {
		t.Fatalf("engine %q\nreplay %q", summary(got), summary(res.Transitions))
	}
	for i, g := range got {
		w := res.Transitions[i]
		if !g.Time.Equal(w.Time) || g.From != w.From || g.To != w.To || g.Reason != w.Reason ||
			g.Episode != w.Episode || !bytes.Equal(g.ReasonData, w.ReasonData) || g.ID == 0 {
			t.Errorf("transition %d:\nengine %+v\nreplay %+v", i, g, w)
		}
	}
	return got
}
