package metricmath

import (
	"slices"
	"strings"
	"testing"
)

func TestParseAndFormat(t *testing.T) {
	for in, want := range map[string]string{
		"DIFF(QueriesFailed)":                                      "DIFF(QueriesFailed)",
		"100 * DataStorage / 1048576":                              "(100 * DataStorage) / 1048576",
		"100 * QueriesFailed / (QueriesFailed + QueriesSucceeded)": "(100 * QueriesFailed) / (QueriesFailed + QueriesSucceeded)",
		"-a - -b":         "-a - -b",
		"sum([a, b * 2])": "SUM([a, b * 2])",
		"MAX(a)":          "MAX(a)",
		"1.5e3 + rate(x)": "1500 + RATE(x)",
	} {
		n, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if got := n.String(); got != want {
			t.Errorf("Parse(%q).String() = %q, want %q", in, got, want)
		}
		// The formatted form parses back to the same form.
		if n2, err := Parse(n.String()); err != nil || n2.String() != want {
			t.Errorf("round trip of %q: %v, %v", want, n2, err)
		}
	}
}

func TestPrecedence(t *testing.T) {
	n, _ := Parse("a + b * c")
	b, ok := n.(Binary)
	if !ok || b.Op != '+' {
		t.Fatalf("a + b * c parsed as %#v", n)
	}
	if r, ok := b.R.(Binary); !ok || r.Op != '*' {
		t.Fatalf("right side %#v", b.R)
	}
}

func TestRefsAndRename(t *testing.T) {
	n, _ := Parse("100 * QueriesFailed / (QueriesFailed + QueriesSucceeded)")
	if got := Refs(n); !slices.Equal(got, []string{"QueriesFailed", "QueriesSucceeded"}) {
		t.Errorf("Refs = %v", got)
	}
	ids := map[string]string{"QueriesFailed": "m1", "QueriesSucceeded": "m2"}
	if got := Rename(n, func(s string) string { return ids[s] }).String(); got != "(100 * m1) / (m1 + m2)" {
		t.Errorf("Rename = %q", got)
	}
}

func TestErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":              "at column 1: unexpected end of expression",
		"a +":           "at column 4: unexpected end of expression",
		"(a":            "at column 3: want \")\"",
		"FOO(a)":        "at column 1: unknown function FOO",
		"DIFF(a, b)":    "DIFF takes one argument",
		"DIFF":          "DIFF is a function",
		"[a, b]":        "a list [...] is allowed only",
		"a $ b":         "at column 3: unexpected \"$\"",
		"DIFF([a])":     "at column 6: a list",
		"1.2.3":         "invalid number",
		"FILL(a)":       "want \",\"",
		"FILL(a, b)":    "FILL fills with a number, not b",
		"FILL(a, 0, 1)": "want \")\"",
		strings.Repeat("(", 200) + "a" + strings.Repeat(")", 200): "nested too deep",
	} {
		_, err := Parse(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want %q", in, err, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"DIFF(QueriesFailed)", "100 * a / (b + c)", "SUM([a, b])", "-(-a)", "FILL(a, -1)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		// What parses must format to something that parses to the same.
		n2, err := Parse(n.String())
		if err != nil || n2.String() != n.String() {
			t.Fatalf("%q formats as %q which re-parses as %v, %v", s, n.String(), n2, err)
		}
	})
}
