package collect

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// Reading is one collected value of one series.
type Reading struct {
	Time       time.Time
	Metric     string
	Dimensions spec.Labels
	Value      float64
	Unit       string
}

// MarshalJSON writes {"time","metric","dimensions","value","unit"}, the
// line format of `dpcops collect --once`.
func (r Reading) MarshalJSON() ([]byte, error) {
	var dims bytes.Buffer
	dims.WriteByte('{')
	for i, l := range r.Dimensions {
		if i > 0 {
			dims.WriteByte(',')
		}
		k, _ := json.Marshal(l.Name)
		v, _ := json.Marshal(l.Value)
		dims.Write(k)
		dims.WriteByte(':')
		dims.Write(v)
	}
	dims.WriteByte('}')
	return json.Marshal(struct {
		Time       string          `json:"time"`
		Metric     string          `json:"metric"`
		Dimensions json.RawMessage `json:"dimensions"`
		Value      float64         `json:"value"`
		Unit       string          `json:"unit"`
	}{r.Time.UTC().Format(time.RFC3339Nano), r.Metric, dims.Bytes(), r.Value, r.Unit})
}

// Datapoint converts the reading for the store.
func (r Reading) Datapoint() store.Datapoint {
	return store.Datapoint{Metric: r.Metric, Dims: r.Dimensions.Canonical(), Unit: r.Unit, Time: r.Time, Value: r.Value}
}

// Skip records a due metric that produced no reading, and why.
type Skip struct {
	Metric string `json:"metric"`
	Reason string `json:"reason"`
}

// withDim returns base plus one dimension, without changing base.
func withDim(base spec.Labels, name, value string) spec.Labels {
	out := make(spec.Labels, 0, len(base)+1)
	out = append(out, base...)
	return append(out, spec.Label{Name: name, Value: value})
}
