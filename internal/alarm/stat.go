package alarm

import (
	"fmt"
	"math"
	"slices"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// Statistic aggregates the datapoints of one period into one value.
type Statistic struct {
	name string
	kind statKind
	// p is the percentile of a pNN statistic, in (0, 100).
	p float64
}

type statKind int

const (
	statAverage statKind = iota + 1
	statSum
	statMinimum
	statMaximum
	statSampleCount
	statPercentile
)

// ParseStatistic parses a CloudWatch statistic name or pNN ("p99", "p99.9").
func ParseStatistic(s string) (Statistic, error) {
	kinds := map[string]statKind{
		"Average": statAverage, "Sum": statSum, "Minimum": statMinimum,
		"Maximum": statMaximum, "SampleCount": statSampleCount,
	}
	if k, ok := kinds[s]; ok {
		return Statistic{name: s, kind: k}, nil
	}
	if p, ok := spec.Percentile(s); ok {
		return Statistic{name: s, kind: statPercentile, p: p}, nil
	}
	return Statistic{}, fmt.Errorf("unknown statistic %q", s)
}

func (s Statistic) String() string { return s.name }

// Of returns the statistic of values, NaN (no datapoint) for none: like
// CloudWatch, a period without samples has no value, not a SampleCount or
// Sum of 0. scratch is reused by percentiles to avoid an allocation per
// period; it may be nil.
func (s Statistic) Of(values []float64, scratch *[]float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	switch s.kind {
	case statSampleCount:
		return float64(len(values))
	case statSum, statAverage:
		sum := 0.0
		for _, v := range values {
			sum += v
		}
		if s.kind == statAverage {
			return sum / float64(len(values))
		}
		return sum
	case statMinimum:
		return slices.Min(values)
	case statMaximum:
		return slices.Max(values)
	case statPercentile:
		return percentile(values, s.p, scratch)
	}
	return math.NaN()
}

// percentile is the nearest-rank percentile: the smallest datapoint that
// at least p percent of the period's datapoints are less than or equal to.
// CloudWatch defines pNN as the value that NN percent of the period's data
// is below; nearest rank meets that with a value that was really observed
// and needs no interpolation between samples. It is the value of rank
// ceil(p/100 × n) in ascending order.
func percentile(values []float64, p float64, scratch *[]float64) float64 {
	var buf []float64
	if scratch != nil {
		buf = (*scratch)[:0]
	}
	buf = append(buf, values...)
	slices.Sort(buf)
	if scratch != nil {
		*scratch = buf
	}
	rank := int(math.Ceil(p / 100 * float64(len(buf))))
	return buf[min(max(rank, 1), len(buf))-1]
}
