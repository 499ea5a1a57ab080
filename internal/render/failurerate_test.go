package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestAnHourOfOnlyFailuresAlarms evaluates the rendered failure-rate alarm
// (Review-Query-Failure-Rate: failed over failed plus succeeded, > 5 %)
// on an hour in which every query failed. Redshift publishes
// QueriesSucceeded only for the query types and periods that had such
// queries, so that hour has no QueriesSucceeded datapoint at all.
// CloudWatch's metric math documents missing values as 0 in arithmetic,
// but not what the sum of series without any datapoint is; dpcops' own
// evaluator makes it missing. The alarm must fire under either reading,
// and an hour without queries must stay without data under both.
func TestAnHourOfOnlyFailuresAlarms(t *testing.T) {
	files, err := Terraform(defaultSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	alarm := parseModule(t, files).resources("aws_cloudwatch_metric_alarm")["review_query_failure_rate"]
	if alarm == nil {
		t.Fatal("no Review-Query-Failure-Rate alarm")
	}
	queries := alarmQueries(t, files["alarms.tf"], alarm.Body)
	missing := math.NaN()
	breaches := func(v float64) bool { return v > 5 }
	for _, tc := range []struct {
		name              string
		failed, succeeded float64
		// want holds for the rate computed; NaN is no datapoint.
		want     func(float64) bool
		wantText string
	}{
		{"every query failed", 12, missing, func(v float64) bool { return v == 100 }, "100, breaching"},
		{"one in a hundred failed", 1, 99, func(v float64) bool { return v == 1 }, "1, not breaching"},
		{"nothing failed", missing, 40, func(v float64) bool { return !breaches(v) }, "0 or no datapoint"},
		{"no queries", missing, missing, math.IsNaN, "no datapoint"},
	} {
		for _, zeroMissing := range []bool{false, true} {
			ev := &mathEval{zeroMissing: zeroMissing, series: map[string]float64{}}
			var got float64
			for _, q := range queries {
				switch {
				case q.insights:
					ev.series[q.id] = tc.failed
				case q.metric:
					// Each query type's QueriesSucceeded: the hour's
					// successes are all of one type.
					ev.series[q.id] = missing
					if q.id == "m1" {
						ev.series[q.id] = tc.succeeded
					}
				default:
					v, err := ev.eval(q.expression)
					if err != nil {
						t.Fatalf("%s: %v", q.expression, err)
					}
					ev.series[q.id] = v
					if q.returns {
						got = v
					}
				}
			}
			if !tc.want(got) {
				t.Errorf("%s (missing as 0: %v): failure rate %v, want %s", tc.name, zeroMissing, got, tc.wantText)
			}
		}
	}
}

type alarmQuery struct {
	id, expression            string
	insights, metric, returns bool
}

// alarmQueries reads the metric_query blocks of an alarm as written.
func alarmQueries(t *testing.T, src []byte, b *hclsyntax.Body) []alarmQuery {
	t.Helper()
	var out []alarmQuery
	for _, q := range b.Blocks {
		if q.Type != "metric_query" {
			continue
		}
		aq := alarmQuery{returns: q.Body.Attributes["return_data"] != nil && attrSource(src, q.Body, "return_data") == "true"}
		aq.id = strings.Trim(attrSource(src, q.Body, "id"), `"`)
		aq.metric = len(q.Body.Blocks) > 0
		if e := attrSource(src, q.Body, "expression"); e != "" {
			aq.expression = strings.Trim(e, `"`)
			aq.insights = strings.HasPrefix(aq.expression, "SELECT ")
		}
		out = append(out, aq)
	}
	return out
}

func attrSource(src []byte, b *hclsyntax.Body, name string) string {
	a, ok := b.Attributes[name]
	if !ok {
		return ""
	}
	return string(a.Expr.Range().SliceBytes(src))
}

// mathEval evaluates a metric math expression at one timestamp, NaN being
// no datapoint: +, -, *, /, unary minus, FILL(x, n) and SUM([...]).
// Division by zero gives no datapoint, as CloudWatch drops it. With
// zeroMissing an operand without a datapoint counts as 0 (CloudWatch's
// documented arithmetic); without, the result has none either (dpcops'
// evaluator). SUM skips members without a datapoint and has none when no
// member has one.
type mathEval struct {
	zeroMissing bool
	series      map[string]float64
	toks        []string
}

func (e *mathEval) eval(s string) (float64, error) {
	e.toks = tokenize(s)
	v, err := e.sum()
	if err == nil && len(e.toks) > 0 {
		err = fmt.Errorf("unexpected %q", e.toks[0])
	}
	return v, err
}

func (e *mathEval) next() string {
	if len(e.toks) == 0 {
		return ""
	}
	t := e.toks[0]
	e.toks = e.toks[1:]
	return t
}

func (e *mathEval) peek() string {
	if len(e.toks) == 0 {
		return ""
	}
	return e.toks[0]
}

func (e *mathEval) sum() (float64, error) {
	v, err := e.product()
	for err == nil && (e.peek() == "+" || e.peek() == "-") {
		op := e.next()
		var r float64
		if r, err = e.product(); err == nil {
			v = e.arith(op, v, r)
		}
	}
	return v, err
}

func (e *mathEval) product() (float64, error) {
	v, err := e.unary()
	for err == nil && (e.peek() == "*" || e.peek() == "/") {
		op := e.next()
		var r float64
		if r, err = e.unary(); err == nil {
			v = e.arith(op, v, r)
		}
	}
	return v, err
}

func (e *mathEval) unary() (float64, error) {
	if e.peek() == "-" {
		e.next()
		v, err := e.unary()
		return -v, err
	}
	return e.primary()
}

func (e *mathEval) primary() (float64, error) {
	t := e.next()
	switch {
	case t == "(":
		v, err := e.sum()
		if e.next() != ")" && err == nil {
			err = fmt.Errorf("want )")
		}
		return v, err
	case t == "FILL":
		args, err := e.args("(", ")")
		if err != nil || len(args) != 2 {
			return 0, fmt.Errorf("FILL wants 2 arguments: %v", err)
		}
		if math.IsNaN(args[0]) {
			return args[1], nil
		}
		return args[0], nil
	case t == "SUM":
		if e.next() != "(" {
			return 0, fmt.Errorf("SUM wants (")
		}
		items, err := e.args("[", "]")
		if e.next() != ")" && err == nil {
			err = fmt.Errorf("want )")
		}
		total, any := 0.0, false
		for _, v := range items {
			if !math.IsNaN(v) {
				total, any = total+v, true
			}
		}
		if !any {
			return math.NaN(), err
		}
		return total, err
	case t != "" && unicode.IsDigit(rune(t[0])):
		return strconv.ParseFloat(t, 64)
	case t != "" && unicode.IsLetter(rune(t[0])):
		v, ok := e.series[t]
		if !ok {
			return 0, fmt.Errorf("unknown id %s", t)
		}
		return v, nil
	}
	return 0, fmt.Errorf("unexpected %q", t)
}

// args reads open a, b, ... close.
func (e *mathEval) args(open, close string) ([]float64, error) {
	if e.next() != open {
		return nil, fmt.Errorf("want %s", open)
	}
	var out []float64
	for {
		v, err := e.sum()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		switch e.next() {
		case ",":
		case close:
			return out, nil
		default:
			return nil, fmt.Errorf("want , or %s", close)
		}
	}
}

func (e *mathEval) arith(op string, a, b float64) float64 {
	if e.zeroMissing {
		if math.IsNaN(a) && math.IsNaN(b) {
			return math.NaN()
		}
		if math.IsNaN(a) {
			a = 0
		}
		if math.IsNaN(b) {
			b = 0
		}
	}
	var v float64
	switch op {
	case "+":
		v = a + b
	case "-":
		v = a - b
	case "*":
		v = a * b
	case "/":
		if b == 0 {
			return math.NaN()
		}
		v = a / b
	}
	return v
}

func tokenize(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		c := rune(s[i])
		switch {
		case c == ' ':
			i++
		case strings.ContainsRune("()[],+-*/", c):
			out = append(out, string(c))
			i++
		default:
			j := i
			for j < len(s) && (unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j])) || s[j] == '.' || s[j] == '_') {
				j++
			}
			if j == i {
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out
}
