package pgwire

import "strings"

// QuoteIdent quotes one SQL identifier (a schema or table name) the way
// PostgreSQL and Redshift read it: in double quotes, with each double quote
// inside doubled. Every identifier dpcops puts into a statement goes
// through it; values it runs are parameters.
func QuoteIdent(name string) string {
	// A NUL cannot be in an identifier; dropping it keeps the statement
	// from being cut short by a driver that treats it as the end.
	name = strings.ReplaceAll(name, "\x00", "")
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// QualifiedName returns schema.table with both parts quoted.
func QualifiedName(schema, table string) string {
	return QuoteIdent(schema) + "." + QuoteIdent(table)
}

// QuoteLiteral quotes an SQL string literal, for statements dpcops prints
// for a person to run (where there are no parameters).
func QuoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, "\x00", ""), "'", "''") + "'"
}
