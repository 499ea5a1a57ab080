package alarm

import (
	"math"
	"testing"
)

func TestStatistics(t *testing.T) {
	oneToTen := []float64{7, 3, 10, 1, 5, 9, 2, 8, 6, 4}
	for _, tc := range []struct {
		stat   string
		values []float64
		want   float64
	}{
		{"Average", oneToTen, 5.5},
		{"Sum", oneToTen, 55},
		{"Minimum", oneToTen, 1},
		{"Maximum", oneToTen, 10},
		{"SampleCount", oneToTen, 10},
		// Nearest rank: ceil(p/100 × n)-th smallest value.
		{"p50", oneToTen, 5},
		{"p90", oneToTen, 9},
		{"p91", oneToTen, 10},
		{"p99", oneToTen, 10},
		{"p10", oneToTen, 1},
		{"p10.5", oneToTen, 2},
		{"p99.9", []float64{42}, 42},
		{"p0.1", []float64{3, 1, 2}, 1},
		{"SampleCount", []float64{0, 0}, 2},
		{"Sum", []float64{-1.5, 1.5}, 0},
	} {
		s, err := ParseStatistic(tc.stat)
		if err != nil {
			t.Fatal(err)
		}
		var scratch []float64
		if got := s.Of(tc.values, &scratch); got != tc.want {
			t.Errorf("%s of %v = %v, want %v", tc.stat, tc.values, got, tc.want)
		}
		if got := s.Of(tc.values, nil); got != tc.want {
			t.Errorf("%s without scratch = %v, want %v", tc.stat, got, tc.want)
		}
	}
}

func TestStatisticOfNothingIsMissing(t *testing.T) {
	for _, name := range []string{"Average", "Sum", "Minimum", "Maximum", "SampleCount", "p99"} {
		s, _ := ParseStatistic(name)
		if v := s.Of(nil, nil); !math.IsNaN(v) {
			t.Errorf("%s of no datapoints = %v, want missing", name, v)
		}
	}
}

func TestPercentileLeavesInputAlone(t *testing.T) {
	in := []float64{3, 1, 2}
	s, _ := ParseStatistic("p50")
	s.Of(in, nil)
	if in[0] != 3 || in[1] != 1 {
		t.Fatalf("input reordered: %v", in)
	}
}

func TestParseStatisticErrors(t *testing.T) {
	for _, bad := range []string{"", "average", "p0", "p100", "p", "tm90"} {
		if _, err := ParseStatistic(bad); err == nil {
			t.Errorf("ParseStatistic(%q) accepted", bad)
		}
	}
}
