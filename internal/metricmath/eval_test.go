package metricmath

import (
	"math"
	"strings"
	"testing"
	"time"
)

var nan = math.NaN()

// env serves the named series; every series must have the same length.
func env(period time.Duration, series map[string][]float64) Env {
	n := 0
	for _, s := range series {
		n = len(s)
	}
	return Env{Len: n, Period: period, Series: func(name string) ([]float64, bool) {
		s, ok := series[name]
		return s, ok
	}}
}

// same compares series, with NaN equal to NaN (both missing).
func same(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.IsNaN(a[i]) != math.IsNaN(b[i]) || (!math.IsNaN(a[i]) && math.Abs(a[i]-b[i]) > 1e-9) {
			return false
		}
	}
	return true
}

func TestEval(t *testing.T) {
	data := map[string][]float64{
		"QueriesFailed":    {0, 1, 3, 6, nan, 2},
		"QueriesSucceeded": {0, 99, 97, 94, 10, nan},
		"DataStorage":      {943718, 943719, 1048576, nan, 0, 524288},
		"a":                {1, -2, nan, 4, 5, 6},
		"b":                {nan, 2, nan, 1, 5, 7},
	}
	for _, tc := range []struct {
		expr string
		want []float64
	}{
		// The seed's three expressions.
		// After a gap DIFF and RATE compare with the last value before it.
		{"DIFF(QueriesFailed)", []float64{nan, 1, 2, 3, nan, -4}},
		{"100 * DataStorage / 1048576", []float64{89.99996185302734, 90.00005722045898, 100, nan, 0, 50}},
		// 0 queries: division by zero is missing, not Inf or NaN-as-breach.
		{"100 * QueriesFailed / (QueriesFailed + QueriesSucceeded)", []float64{nan, 1, 3, 6, nan, nan}},
		// RATE is per second: a period of one minute divides DIFF by 60.
		// RATE divides by the seconds between the two points: two minutes
		// across the gap.
		{"RATE(QueriesFailed)", []float64{nan, 1.0 / 60, 2.0 / 60, 3.0 / 60, nan, -4.0 / 120}},
		{"DIFF(a)", []float64{nan, -3, nan, 6, 1, 1}},
		{"ABS(a)", []float64{1, 2, nan, 4, 5, 6}},
		{"-a", []float64{-1, 2, nan, -4, -5, -6}},
		{"a - b", []float64{nan, -4, nan, 3, 0, -1}},
		// Lists skip missing members; missing only where all are.
		{"SUM([a, b])", []float64{1, 0, nan, 5, 10, 13}},
		{"AVG([a, b])", []float64{1, 0, nan, 2.5, 5, 6.5}},
		{"MIN([a, b, 3])", []float64{1, -2, 3, 1, 3, 3}},
		{"MAX([a, b])", []float64{1, 2, nan, 4, 5, 7}},
		// Over one series the functions return it unchanged.
		{"SUM(a)", []float64{1, -2, nan, 4, 5, 6}},
		{"MAX(a * 2)", []float64{2, -4, nan, 8, 10, 12}},
		// Constants broadcast to every period.
		{"2 * 3 + 1", []float64{7, 7, 7, 7, 7, 7}},
		{"1 / 0", []float64{nan, nan, nan, nan, nan, nan}},
		{"a / (b - b)", []float64{nan, nan, nan, nan, nan, nan}},
		// Overflow is missing, never Inf.
		{"a * 1e308 * 10", []float64{nan, nan, nan, nan, nan, nan}},
		{"DIFF(DIFF(QueriesFailed))", []float64{nan, nan, 1, 1, nan, -7}},
		// FILL puts a number where a period has no value.
		{"FILL(b, 0)", []float64{0, 2, 0, 1, 5, 7}},
		{"FILL(b, -1.5) * 2", []float64{-3, 4, -3, 2, 10, 14}},
		{"FILL(3, 0)", []float64{3, 3, 3, 3, 3, 3}},
		// The failure rate read as both forms read it: succeeded
		// missing (every query failed) is 100 %, both missing is still
		// no data.
		{"100 * QueriesFailed / (FILL(QueriesFailed, 0) + FILL(QueriesSucceeded, 0))", []float64{nan, 1, 3, 6, nan, 100}},
	} {
		n, err := Parse(tc.expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.expr, err)
		}
		got, err := Eval(n, env(time.Minute, data))
		if err != nil {
			t.Errorf("Eval(%q): %v", tc.expr, err)
			continue
		}
		if !same(got, tc.want) {
			t.Errorf("Eval(%q) = %v, want %v", tc.expr, got, tc.want)
		}
	}
}

func TestEvalDoesNotModifyInputs(t *testing.T) {
	a := []float64{1, 2, 3}
	n, _ := Parse("SUM(a)")
	out, err := Eval(n, env(time.Minute, map[string][]float64{"a": a}))
	if err != nil {
		t.Fatal(err)
	}
	out2, _ := Eval(Unary{X: n}, env(time.Minute, map[string][]float64{"a": a}))
	if !same(a, []float64{1, 2, 3}) || !same(out, a) || !same(out2, []float64{-1, -2, -3}) {
		t.Fatalf("input changed: %v %v %v", a, out, out2)
	}
}

func TestEvalErrors(t *testing.T) {
	for expr, want := range map[string]string{
		"Nope + 1":    "unknown metric Nope",
		"DIFF(5)":     "DIFF needs a metric, not the constant 5",
		"RATE(2 * 3)": "RATE needs a metric",
	} {
		n, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Eval(n, env(time.Minute, map[string][]float64{"a": {1}}))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Eval(%q) = %v, want %q", expr, err, want)
		}
	}
	n, _ := Parse("a")
	if _, err := Eval(n, Env{Len: 2, Series: func(string) ([]float64, bool) { return []float64{1}, true }}); err == nil {
		t.Error("a series of the wrong length must be an error")
	}
}

func TestLookback(t *testing.T) {
	for expr, want := range map[string]int{
		"a":                       0,
		"DIFF(a)":                 1,
		"RATE(a) + DIFF(DIFF(b))": 2,
		"SUM([DIFF(a), b])":       1,
		"-ABS(DIFF(a))":           1,
	} {
		n, _ := Parse(expr)
		if got := Lookback(n); got != want {
			t.Errorf("Lookback(%q) = %d, want %d", expr, got, want)
		}
	}
}

func FuzzEval(f *testing.F) {
	for _, s := range []string{
		"DIFF(QueriesFailed)", "100 * DataStorage / 1048576",
		"100 * QueriesFailed / (QueriesFailed + QueriesSucceeded)",
		"RATE(a) / ABS(b)", "SUM([a, b, 1e308 * 10])", "MIN([DIFF(a), -b])",
	} {
		f.Add(s, 1.0, 0.0)
	}
	f.Fuzz(func(t *testing.T, expr string, x, y float64) {
		if math.IsInf(x, 0) || math.IsInf(y, 0) {
			return // Env.Series values are finite or missing by contract.
		}
		n, err := Parse(expr)
		if err != nil {
			return
		}
		series := map[string][]float64{
			"a": {x, y, nan, x}, "b": {0, y, x, nan},
			"QueriesFailed": {x, x, y, 0}, "QueriesSucceeded": {y, 0, 0, nan}, "DataStorage": {x, y, 1, 2},
		}
		got, err := Eval(n, env(time.Minute, series))
		if err != nil {
			return
		}
		if len(got) != 4 {
			t.Fatalf("%q: %d values, want 4", expr, len(got))
		}
		for i, v := range got {
			if math.IsInf(v, 0) {
				t.Fatalf("%q: value %d is %v; results must be finite or missing", expr, i, v)
			}
		}
	})
}

// TestFillDivisors: sparse counts are filled inside divisors only, once,
// and the result evaluates as the CloudWatch form's expression does.
func TestFillDivisors(t *testing.T) {
	sparse := func(name string) bool { return strings.HasPrefix(name, "Queries") }
	for in, want := range map[string]string{
		"100 * QueriesFailed / (QueriesFailed + QueriesSucceeded)": "(100 * QueriesFailed) / (FILL(QueriesFailed, 0) + FILL(QueriesSucceeded, 0))",
		"QueriesFailed + QueriesSucceeded":                         "QueriesFailed + QueriesSucceeded",
		"DataStorage / QueriesSucceeded":                           "DataStorage / FILL(QueriesSucceeded, 0)",
		"a / FILL(QueriesSucceeded, 1)":                            "a / FILL(QueriesSucceeded, 1)",
		"DIFF(QueriesFailed / SUM([QueriesSucceeded, a]))":         "DIFF(QueriesFailed / SUM([FILL(QueriesSucceeded, 0), a]))",
		"a / b": "a / b",
	} {
		n, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := FillDivisors(n, sparse).String(); got != want {
			t.Errorf("FillDivisors(%s) = %s, want %s", in, got, want)
		}
	}
}
