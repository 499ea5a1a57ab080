package pgwire

import "testing"

func TestQuoting(t *testing.T) {
	for in, want := range map[string]string{
		"ef_lines":                 `"ef_lines"`,
		`we"ird`:                   `"we""ird"`,
		`x"; DROP TABLE users; --`: `"x""; DROP TABLE users; --"`,
		"Mixed Case":               `"Mixed Case"`,
		"nul\x00byte":              `"nulbyte"`,
	} {
		if got := QuoteIdent(in); got != want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestQuoteLiteral: Redshift's QUOTE_LITERAL doubles single quotes and
// backslashes; PostgreSQL's quote_literal does too, and marks a literal
// with a backslash E'...'.
func TestQuoteLiteral(t *testing.T) {
	for _, tc := range []struct{ in, redshift, postgres string }{
		{"it's", `'it''s'`, `'it''s'`},
		{`back\slash`, `'back\\slash'`, `E'back\\slash'`},
		{`trailing\`, `'trailing\\'`, `E'trailing\\'`},
		{`x\'); DROP TABLE t; --`, `'x\\''); DROP TABLE t; --'`, `E'x\\''); DROP TABLE t; --'`},
		{"line\nbreak", "'line\nbreak'", "'line\nbreak'"},
		{"nul\x00byte", `'nulbyte'`, `'nulbyte'`},
	} {
		if got := QuoteLiteral(tc.in); got != tc.redshift {
			t.Errorf("QuoteLiteral(%q) = %s, want %s", tc.in, got, tc.redshift)
		}
		if got := QuotePostgresLiteral(tc.in); got != tc.postgres {
			t.Errorf("QuotePostgresLiteral(%q) = %s, want %s", tc.in, got, tc.postgres)
		}
	}
}
