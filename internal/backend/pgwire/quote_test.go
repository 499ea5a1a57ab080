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
	if got := QuoteLiteral("it's"); got != "'it''s'" {
		t.Errorf("QuoteLiteral = %s", got)
	}
}
