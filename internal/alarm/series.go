package alarm

import (
	"math"
	"sort"
)

// series is the datapoints of one series, in time order, one per instant.
type series struct {
	ts []int64 // Unix milliseconds
	vs []float64
}

// aggregate sets out[k] to the statistic of the datapoints in period k,
// [start + k·period, start + (k+1)·period), NaN where there are none.
// start and period are in milliseconds, as the series' times are; every
// period a spec allows is a whole number of them.
func aggregate(s series, start, period int64, stat Statistic, out []float64, scratch *[]float64) {
	for k := range out {
		out[k] = math.NaN()
	}
	end := start + int64(len(out))*period
	i := sort.Search(len(s.ts), func(i int) bool { return s.ts[i] >= start })
	for i < len(s.ts) && s.ts[i] < end {
		k := (s.ts[i] - start) / period
		limit := start + (k+1)*period
		j := i + 1
		for j < len(s.ts) && s.ts[j] < limit {
			j++
		}
		out[k] = stat.Of(s.vs[i:j], scratch)
		i = j
	}
}
