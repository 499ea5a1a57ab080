package awstest

import (
	"strings"
	"testing"
)

func TestBindParams(t *testing.T) {
	p := func(kv ...string) []SQLParameter {
		var ps []SQLParameter
		for i := 0; i+1 < len(kv); i += 2 {
			ps = append(ps, SQLParameter{Name: kv[i], Value: kv[i+1]})
		}
		return ps
	}
	for _, tc := range []struct {
		name, sql string
		params    []SQLParameter
		want      string
		values    []string
		refused   string
	}{
		{name: "cast", sql: "SELECT :since::float8 + 1", params: p("since", "1.5"), want: "SELECT $1::float8 + 1", values: []string{"1.5"}},
		{name: "cast of a column", sql: "SELECT a::text FROM t WHERE b = :b", params: p("b", "x"), want: "SELECT a::text FROM t WHERE b = $1", values: []string{"x"}},
		{name: "reused", sql: "SELECT :a, :b, :a", params: p("b", "2", "a", "1"), want: "SELECT $1, $2, $1", values: []string{"1", "2"}},
		{name: "literal", sql: "SELECT 'a:b', 'it''s :x', :x", params: p("x", "1"), want: "SELECT 'a:b', 'it''s :x', $1", values: []string{"1"}},
		{name: "escape string", sql: `SELECT E'\' :x', :x`, params: p("x", "1"), want: `SELECT E'\' :x', $1`, values: []string{"1"}},
		{name: "quoted identifier", sql: `SELECT ":x" FROM t WHERE c = :x`, params: p("x", "1"), want: `SELECT ":x" FROM t WHERE c = $1`, values: []string{"1"}},
		{name: "comments", sql: "SELECT :x -- :y\n/* :y /* nested :y */ :y */ + 1", params: p("x", "1"), want: "SELECT $1 -- :y\n/* :y /* nested :y */ :y */ + 1", values: []string{"1"}},
		{name: "dollar quote", sql: "SELECT $$ :y $$, $f$ :y $f$, :x", params: p("x", "1"), want: "SELECT $$ :y $$, $f$ :y $f$, $1", values: []string{"1"}},
		{name: "names with digits", sql: "SELECT :p1, :p10", params: p("p10", "b", "p1", "a"), want: "SELECT $1, $2", values: []string{"a", "b"}},
		{name: "no parameters", sql: "SELECT now()::date", want: "SELECT now()::date"},
		{name: "not given", sql: "SELECT :x", refused: "not given"},
		{name: "not used", sql: "SELECT ':x'", params: p("x", "1"), refused: "does not use"},
		{name: "given twice", sql: "SELECT :x", params: p("x", "1", "x", "2"), refused: "more than once"},
		{name: "bad name", sql: "SELECT 1", params: p("x-y", "1"), refused: "must match"},
		{name: "empty value", sql: "SELECT :x", params: p("x", ""), refused: "length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, values, err := bindParams(tc.sql, tc.params)
			if tc.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refused) {
					t.Errorf("err %v, want one saying %q", err, tc.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			if len(values) != len(tc.values) {
				t.Fatalf("values %q, want %q", values, tc.values)
			}
			for i := range values {
				if string(values[i]) != tc.values[i] {
					t.Errorf("value %d = %q, want %q", i+1, values[i], tc.values[i])
				}
			}
		})
	}
}

// FuzzBindParams checks that binding never panics, and that SQL without a
// parameter comes back as it went in.
func FuzzBindParams(f *testing.F) {
	for _, s := range []string{"SELECT :a::int", "SELECT ':a'", "SELECT $$:a$$", "/* :a", "E'\\", `"`, "$a", "::a", ":"} {
		f.Add(s, "a")
	}
	f.Fuzz(func(t *testing.T, sql, name string) {
		out, values, err := bindParams(sql, []SQLParameter{{Name: name, Value: "v"}})
		if err == nil && len(values) != 1 {
			t.Fatalf("bound %q with values %q", out, values)
		}
		if out, _, err := bindParams(sql, nil); err == nil && out != sql {
			t.Fatalf("no parameters, yet %q became %q", sql, out)
		}
	})
}
