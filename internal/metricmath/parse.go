package metricmath

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Node is a parsed expression.
type Node interface {
	// String formats the node back as an expression.
	String() string
}

// Num is a number.
type Num struct{ Value float64 }

// Ref names a metric.
type Ref struct {
	Name string
	// Offset is the byte offset of the name in the expression.
	Offset int
}

// Unary is a negation.
type Unary struct{ X Node }

// Binary is an arithmetic operation: + - * /.
type Binary struct {
	Op   byte
	L, R Node
}

// Call is a function call.
type Call struct {
	Fn     string
	Args   []Node
	Offset int
}

// List is [a, b, ...], an argument of SUM, AVG, MIN and MAX.
type List struct{ Items []Node }

func (n Num) String() string {
	if n.Value == math.Trunc(n.Value) && math.Abs(n.Value) < 1e15 {
		return strconv.FormatFloat(n.Value, 'f', -1, 64)
	}
	return strconv.FormatFloat(n.Value, 'g', -1, 64)
}
func (n Ref) String() string   { return n.Name }
func (n Unary) String() string { return "-" + wrap(n.X) }
func (n Binary) String() string {
	return wrap(n.L) + " " + string(n.Op) + " " + wrap(n.R)
}
func (n Call) String() string {
	args := make([]string, len(n.Args))
	for i, a := range n.Args {
		args[i] = a.String()
	}
	return n.Fn + "(" + strings.Join(args, ", ") + ")"
}
func (n List) String() string {
	items := make([]string, len(n.Items))
	for i, a := range n.Items {
		items[i] = a.String()
	}
	return "[" + strings.Join(items, ", ") + "]"
}

func wrap(n Node) string {
	if _, ok := n.(Binary); ok {
		return "(" + n.String() + ")"
	}
	return n.String()
}

// Functions lists the functions an expression may call, with their arity:
// 1 means one argument, -1 one argument that may be a list, 2 a series and
// a number (FILL).
var functions = map[string]int{
	"DIFF": 1, "RATE": 1, "ABS": 1,
	"SUM": -1, "AVG": -1, "MIN": -1, "MAX": -1,
	"FILL": 2,
}

// IsFunction reports whether name is a function of the language.
func IsFunction(name string) bool {
	_, ok := functions[name]
	return ok
}

// Error is a parse error at a byte offset of the expression.
type Error struct {
	Offset int
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("at column %d: %s", e.Offset+1, e.Msg) }

// Parse parses an expression.
func Parse(s string) (Node, error) {
	p := &parser{src: s}
	p.next()
	n, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.errorf("unexpected %s", p.tok)
	}
	return n, nil
}

// Refs returns the metric names an expression refers to, once each, in
// order of first use.
func Refs(n Node) []string {
	var out []string
	seen := map[string]bool{}
	Walk(n, func(n Node) {
		if r, ok := n.(Ref); ok && !seen[r.Name] {
			seen[r.Name] = true
			out = append(out, r.Name)
		}
	})
	return out
}

// Walk calls fn for n and every node below it.
func Walk(n Node, fn func(Node)) {
	fn(n)
	switch n := n.(type) {
	case Unary:
		Walk(n.X, fn)
	case Binary:
		Walk(n.L, fn)
		Walk(n.R, fn)
	case Call:
		for _, a := range n.Args {
			Walk(a, fn)
		}
	case List:
		for _, a := range n.Items {
			Walk(a, fn)
		}
	}
}

// Rename returns a copy of n with every metric name replaced by rename(name),
// as CloudWatch needs ids (m1, m2) in place of names.
func Rename(n Node, rename func(string) string) Node {
	return walk(n, func(n Node) (Node, bool) {
		if r, ok := n.(Ref); ok {
			return Ref{Name: rename(r.Name), Offset: r.Offset}, true
		}
		return nil, false
	})
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokNum
	tokIdent
	tokOp
)

type token struct {
	kind tokKind
	text string
	off  int
}

func (t token) String() string {
	if t.kind == tokEOF {
		return "end of expression"
	}
	return strconv.Quote(t.text)
}

type parser struct {
	src string
	off int
	tok token
}

func (p *parser) errorf(format string, args ...any) *Error {
	return &Error{Offset: p.tok.off, Msg: fmt.Sprintf(format, args...)}
}

// maxDepth bounds nesting so that a hostile expression cannot exhaust the
// stack.
const maxDepth = 100

func (p *parser) next() {
	for p.off < len(p.src) && (p.src[p.off] == ' ' || p.src[p.off] == '\t' || p.src[p.off] == '\n') {
		p.off++
	}
	start := p.off
	if p.off >= len(p.src) {
		p.tok = token{kind: tokEOF, off: start}
		return
	}
	c := p.src[p.off]
	switch {
	case isDigit(c) || c == '.':
		for p.off < len(p.src) && (isDigit(p.src[p.off]) || p.src[p.off] == '.') {
			p.off++
		}
		if p.off < len(p.src) && (p.src[p.off] == 'e' || p.src[p.off] == 'E') {
			p.off++
			if p.off < len(p.src) && (p.src[p.off] == '+' || p.src[p.off] == '-') {
				p.off++
			}
			for p.off < len(p.src) && isDigit(p.src[p.off]) {
				p.off++
			}
		}
		p.tok = token{kind: tokNum, text: p.src[start:p.off], off: start}
	case isIdentStart(c):
		for p.off < len(p.src) && isIdentPart(p.src[p.off]) {
			p.off++
		}
		p.tok = token{kind: tokIdent, text: p.src[start:p.off], off: start}
	default:
		p.off++
		p.tok = token{kind: tokOp, text: string(c), off: start}
	}
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isIdentPart(c byte) bool  { return isIdentStart(c) || isDigit(c) }

func (p *parser) is(op string) bool { return p.tok.kind == tokOp && p.tok.text == op }

func (p *parser) expect(op string) error {
	if !p.is(op) {
		return p.errorf("want %q, got %s", op, p.tok)
	}
	p.next()
	return nil
}

func (p *parser) expr(depth int) (Node, error) {
	if depth > maxDepth {
		return nil, p.errorf("expression nested too deep")
	}
	l, err := p.term(depth)
	if err != nil {
		return nil, err
	}
	for p.is("+") || p.is("-") {
		op := p.tok.text[0]
		p.next()
		r, err := p.term(depth)
		if err != nil {
			return nil, err
		}
		l = Binary{Op: op, L: l, R: r}
	}
	return l, nil
}

func (p *parser) term(depth int) (Node, error) {
	l, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for p.is("*") || p.is("/") {
		op := p.tok.text[0]
		p.next()
		r, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		l = Binary{Op: op, L: l, R: r}
	}
	return l, nil
}

func (p *parser) unary(depth int) (Node, error) {
	if p.is("-") {
		p.next()
		if depth > maxDepth {
			return nil, p.errorf("expression nested too deep")
		}
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return Unary{X: x}, nil
	}
	return p.primary(depth)
}

func (p *parser) primary(depth int) (Node, error) {
	tok := p.tok
	switch {
	case tok.kind == tokNum:
		v, err := strconv.ParseFloat(tok.text, 64)
		if err != nil {
			return nil, p.errorf("invalid number %q", tok.text)
		}
		p.next()
		return Num{Value: v}, nil
	case tok.kind == tokIdent:
		p.next()
		if !p.is("(") {
			if IsFunction(strings.ToUpper(tok.text)) {
				return nil, &Error{Offset: tok.off, Msg: fmt.Sprintf("%s is a function: write %s(...)", tok.text, strings.ToUpper(tok.text))}
			}
			return Ref{Name: tok.text, Offset: tok.off}, nil
		}
		return p.call(tok, depth)
	case p.is("("):
		p.next()
		n, err := p.expr(depth + 1)
		if err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		return n, nil
	case p.is("["):
		return nil, p.errorf("a list [...] is allowed only as the argument of SUM, AVG, MIN or MAX")
	}
	return nil, p.errorf("unexpected %s", tok)
}

func (p *parser) call(fn token, depth int) (Node, error) {
	name := strings.ToUpper(fn.text)
	arity, ok := functions[name]
	if !ok {
		return nil, &Error{Offset: fn.off, Msg: fmt.Sprintf("unknown function %s (known: DIFF, RATE, ABS, SUM, AVG, MIN, MAX, FILL)", fn.text)}
	}
	p.next() // (
	var arg Node
	var err error
	if arity < 0 && p.is("[") {
		arg, err = p.list(depth + 1)
	} else {
		arg, err = p.expr(depth + 1)
	}
	if err != nil {
		return nil, err
	}
	args := []Node{arg}
	if arity == 2 {
		// FILL(series, value): the value is a number. CloudWatch also
		// takes REPEAT and LINEAR, which dpcops does not evaluate.
		if err := p.expect(","); err != nil {
			return nil, err
		}
		off := p.tok.off
		v, err := p.expr(depth + 1)
		if err != nil {
			return nil, err
		}
		if _, isNum := v.(Num); !isNum {
			if neg, ok := v.(Unary); !ok || !isNumber(neg.X) {
				return nil, &Error{Offset: off, Msg: fmt.Sprintf("%s fills with a number, not %s", name, v)}
			}
		}
		args = append(args, v)
	} else if p.is(",") {
		return nil, p.errorf("%s takes one argument (use [a, b] for a list)", name)
	}
	if err := p.expect(")"); err != nil {
		return nil, err
	}
	return Call{Fn: name, Args: args, Offset: fn.off}, nil
}

func isNumber(n Node) bool {
	_, ok := n.(Num)
	return ok
}

func (p *parser) list(depth int) (Node, error) {
	p.next() // [
	var items []Node
	for {
		n, err := p.expr(depth)
		if err != nil {
			return nil, err
		}
		items = append(items, n)
		if p.is(",") {
			p.next()
			continue
		}
		if err := p.expect("]"); err != nil {
			return nil, err
		}
		return List{Items: items}, nil
	}
}
