package metricmath

import (
	"fmt"
	"math"
	"time"
)

// Env is what an expression is evaluated against: per-period series that
// all cover the same consecutive periods, oldest first.
type Env struct {
	// Len is the number of periods of every series and of the result.
	Len int
	// Period is the length of one period; RATE divides by it.
	Period time.Duration
	// Series returns the values of a metric, one per period, NaN where the
	// period has no datapoint; values are finite or NaN. It reports false
	// for an unknown metric.
	Series func(name string) ([]float64, bool)
}

// Eval computes an expression period by period and returns Len values, NaN
// where the result is missing.
//
// Missing data propagates as CloudWatch's metric math does: an arithmetic
// result is missing where any operand is missing, and DIFF and RATE are
// missing where the period is, and otherwise compare with the previous
// period that has a value (RATE over the time between the two). Division by
// zero and any result that is not finite are missing too, never ±Inf, so
// that a rate over a period without queries is "no data", not a breach.
//
// SUM, AVG, MIN and MAX over a list [a, b] work element by element and skip
// missing members, as an aggregation does; the result is missing only where
// every member is. Over a single series they return the series unchanged:
// CloudWatch would reduce it to one number over the graph's time range, and
// an alarm has no such range (its statistic already aggregates each period).
func Eval(n Node, env Env) ([]float64, error) {
	if env.Len < 0 {
		return nil, fmt.Errorf("evaluate %s: negative length %d", n, env.Len)
	}
	v, err := eval(n, env)
	if err != nil {
		return nil, err
	}
	if v.scalar {
		out := make([]float64, env.Len)
		c := finite(v.c)
		for i := range out {
			out[i] = c
		}
		return out, nil
	}
	return v.s, nil
}

// Lookback returns how many periods before the first one an expression
// needs to compute the first period: one for each DIFF or RATE it nests.
func Lookback(n Node) int {
	switch n := n.(type) {
	case Unary:
		return Lookback(n.X)
	case Binary:
		return max(Lookback(n.L), Lookback(n.R))
	case Call:
		l := 0
		for _, a := range n.Args {
			l = max(l, Lookback(a))
		}
		if n.Fn == "DIFF" || n.Fn == "RATE" {
			l++
		}
		return l
	case List:
		l := 0
		for _, a := range n.Items {
			l = max(l, Lookback(a))
		}
		return l
	}
	return 0
}

// value is an intermediate result: a constant or a series of Env.Len.
type value struct {
	scalar bool
	c      float64
	s      []float64
}

func eval(n Node, env Env) (value, error) {
	switch n := n.(type) {
	case Num:
		return value{scalar: true, c: n.Value}, nil
	case Ref:
		s, ok := env.Series(n.Name)
		if !ok {
			return value{}, fmt.Errorf("unknown metric %s", n.Name)
		}
		if len(s) != env.Len {
			return value{}, fmt.Errorf("metric %s has %d periods, want %d", n.Name, len(s), env.Len)
		}
		return value{s: s}, nil
	case Unary:
		x, err := eval(n.X, env)
		if err != nil {
			return value{}, err
		}
		return apply1(x, env.Len, func(v float64) float64 { return -v }), nil
	case Binary:
		return evalBinary(n, env)
	case Call:
		return evalCall(n, env)
	case List:
		return value{}, fmt.Errorf("a list %s is allowed only as the argument of SUM, AVG, MIN or MAX", n)
	}
	return value{}, fmt.Errorf("cannot evaluate %T", n)
}

func evalBinary(n Binary, env Env) (value, error) {
	l, err := eval(n.L, env)
	if err != nil {
		return value{}, err
	}
	r, err := eval(n.R, env)
	if err != nil {
		return value{}, err
	}
	op, err := arith(n.Op)
	if err != nil {
		return value{}, err
	}
	if l.scalar && r.scalar {
		return value{scalar: true, c: op(l.c, r.c)}, nil
	}
	out := make([]float64, env.Len)
	for i := range out {
		out[i] = finite(op(l.at(i), r.at(i)))
	}
	return value{s: out}, nil
}

func arith(op byte) (func(a, b float64) float64, error) {
	switch op {
	case '+':
		return func(a, b float64) float64 { return a + b }, nil
	case '-':
		return func(a, b float64) float64 { return a - b }, nil
	case '*':
		return func(a, b float64) float64 { return a * b }, nil
	case '/':
		return func(a, b float64) float64 {
			if b == 0 {
				return math.NaN()
			}
			return a / b
		}, nil
	}
	return nil, fmt.Errorf("unknown operator %q", op)
}

func evalCall(n Call, env Env) (value, error) {
	if n.Fn == "FILL" {
		return evalFill(n, env)
	}
	if len(n.Args) != 1 {
		return value{}, fmt.Errorf("%s takes one argument, got %d", n.Fn, len(n.Args))
	}
	if list, ok := n.Args[0].(List); ok {
		return evalList(n.Fn, list, env)
	}
	x, err := eval(n.Args[0], env)
	if err != nil {
		return value{}, err
	}
	switch n.Fn {
	case "DIFF", "RATE":
		if x.scalar {
			return value{}, fmt.Errorf("%s needs a metric, not the constant %s", n.Fn, n.Args[0])
		}
		perSecond := 0.0 // DIFF
		if n.Fn == "RATE" {
			if env.Period <= 0 {
				return value{}, fmt.Errorf("RATE needs a period")
			}
			perSecond = env.Period.Seconds()
		}
		return value{s: diff(x.s, perSecond)}, nil
	case "ABS":
		return apply1(x, env.Len, math.Abs), nil
	case "SUM", "AVG", "MIN", "MAX":
		// One series: the series itself (see Eval).
		return x, nil
	}
	return value{}, fmt.Errorf("unknown function %s", n.Fn)
}

// diff returns, for each period with a value, the difference from the
// last earlier period with one, as CloudWatch's DIFF and RATE take "the
// previous data point": a gap is stepped over, not a break. With period
// seconds > 0 it is RATE: divided by the seconds between the two points.
// A period without a value, or without one before it, is missing.
func diff(x []float64, period float64) []float64 {
	out := make([]float64, len(x))
	prev := -1
	for i, v := range x {
		out[i] = math.NaN()
		if math.IsNaN(v) {
			continue
		}
		if prev >= 0 {
			d := v - x[prev]
			if period > 0 {
				d /= float64(i-prev) * period
			}
			out[i] = finite(d)
		}
		prev = i
	}
	return out
}

func evalList(fn string, list List, env Env) (value, error) {
	items := make([]value, len(list.Items))
	for i, it := range list.Items {
		v, err := eval(it, env)
		if err != nil {
			return value{}, err
		}
		items[i] = v
	}
	out := make([]float64, env.Len)
	for i := range out {
		out[i] = reduce(fn, items, i)
	}
	return value{s: out}, nil
}

// reduce aggregates the present members of items at period i.
func reduce(fn string, items []value, i int) float64 {
	var acc float64
	n := 0
	for _, it := range items {
		v := it.at(i)
		if math.IsNaN(v) {
			continue
		}
		switch {
		case n == 0:
			acc = v
		case fn == "MIN":
			acc = math.Min(acc, v)
		case fn == "MAX":
			acc = math.Max(acc, v)
		default:
			acc += v
		}
		n++
	}
	if n == 0 {
		return math.NaN()
	}
	if fn == "AVG" {
		acc /= float64(n)
	}
	return finite(acc)
}

func (v value) at(i int) float64 {
	if v.scalar {
		return v.c
	}
	return v.s[i]
}

func apply1(x value, n int, fn func(float64) float64) value {
	if x.scalar {
		return value{scalar: true, c: fn(x.c)}
	}
	out := make([]float64, n)
	for i, v := range x.s {
		out[i] = finite(fn(v))
	}
	return value{s: out}
}

// finite turns ±Inf into NaN: a value no threshold can meaningfully cross
// is missing data.
func finite(v float64) float64 {
	if math.IsInf(v, 0) {
		return math.NaN()
	}
	return v
}

// evalFill is FILL(x, v): x with each missing period replaced by v.
func evalFill(n Call, env Env) (value, error) {
	if len(n.Args) != 2 {
		return value{}, fmt.Errorf("FILL takes a series and a number, got %d arguments", len(n.Args))
	}
	x, err := eval(n.Args[0], env)
	if err != nil {
		return value{}, err
	}
	fill, err := eval(n.Args[1], env)
	if err != nil {
		return value{}, err
	}
	if !fill.scalar || math.IsNaN(fill.c) {
		return value{}, fmt.Errorf("FILL fills with a number, not %s", n.Args[1])
	}
	if x.scalar {
		return x, nil
	}
	out := make([]float64, env.Len)
	for i := range out {
		out[i] = x.at(i)
		if math.IsNaN(out[i]) {
			out[i] = fill.c
		}
	}
	return value{s: out}, nil
}
