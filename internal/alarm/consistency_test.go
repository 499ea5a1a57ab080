package alarm

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
)

// TestEngineAgreesWithReplay runs every golden scenario through the
// serve engine, reading datapoints from a real store at each period
// boundary, and checks that it makes exactly the transitions the
// in-memory replay makes, with the same reasons and episodes.
func TestEngineAgreesWithReplay(t *testing.T) {
	for _, sc := range goldenScenarios {
		t.Run(sc.name, func(t *testing.T) {
			full := defaultSpec(t)
			ds := readDataset(t, filepath.Join("testdata", "backtest", sc.name+".csv"))
			res, err := Replay(full, ds, ReplayOptions{Alarm: sc.alarm, ReasonData: true})
			if err != nil {
				t.Fatal(err)
			}
			// A spec with the one alarm, so that the engine evaluates it alone.
			s := *full
			a, _ := full.Alarm(sc.alarm)
			s.Alarms = append(s.Alarms[:0:0], *a)
			st := openStore(t, t.TempDir())
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
		})
	}
}
