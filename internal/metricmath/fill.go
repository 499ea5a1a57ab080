package metricmath

// FillDivisors returns n with every reference to a sparse count inside a
// divisor read through FILL(x, 0).
//
// Redshift publishes QueriesSucceeded and QueriesFailed to CloudWatch only
// for the query types and periods that had such queries, so in an hour in
// which every query failed the succeeded side has no datapoint at all, and
// 100 * failed / (failed + succeeded) would be missing, which an alarm
// treating missing data as not breaching never reports. With FILL the
// divisor is 0 where nothing was counted, so that hour is 100 %, while a
// period with no queries at all is still missing (0 / 0 is dropped).
// Numerators are left alone, and FILL goes only inside a divisor, so that
// a late datapoint is never replaced by a filled 0 that would decide the
// alarm. The CloudWatch form (render) and dpcops' own engine (alarm) both
// read expressions so; sparse says which references are such counts.
func FillDivisors(n Node, sparse func(name string) bool) Node {
	return walk(n, func(n Node) (Node, bool) {
		b, ok := n.(Binary)
		if !ok {
			return nil, false
		}
		l, r := FillDivisors(b.L, sparse), FillDivisors(b.R, sparse)
		if b.Op == '/' {
			r = fillRefs(r, sparse)
		}
		return Binary{Op: b.Op, L: l, R: r}, true
	})
}

// fillRefs wraps every reference to a sparse count in FILL(x, 0).
func fillRefs(n Node, sparse func(string) bool) Node {
	return walk(n, func(n Node) (Node, bool) {
		switch n := n.(type) {
		case Ref:
			if sparse(n.Name) {
				return Call{Fn: "FILL", Args: []Node{n, Num{Value: 0}}}, true
			}
			return n, true
		case Call:
			if n.Fn == "FILL" {
				return n, true // filled already
			}
		}
		return nil, false
	})
}

// walk rebuilds n bottom-up, giving visit each node first: a node visit
// handles (true) is replaced by what it returns, others are rebuilt from
// their walked children.
func walk(n Node, visit func(Node) (Node, bool)) Node {
	if out, ok := visit(n); ok {
		return out
	}
	switch n := n.(type) {
	case Binary:
		return Binary{Op: n.Op, L: walk(n.L, visit), R: walk(n.R, visit)}
	case Unary:
		return Unary{X: walk(n.X, visit)}
	case Call:
		args := make([]Node, len(n.Args))
		for i, a := range n.Args {
			args[i] = walk(a, visit)
		}
		return Call{Fn: n.Fn, Args: args, Offset: n.Offset}
	case List:
		items := make([]Node, len(n.Items))
		for i, a := range n.Items {
			items[i] = walk(a, visit)
		}
		return List{Items: items}
	}
	return n
}
