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

// QuoteLiteral quotes a string literal as Redshift's QUOTE_LITERAL does,
// for statements dpcops prints for a person to run on Redshift (where there
// are no parameters): in single quotes, each single quote and each
// backslash doubled. Redshift reads a backslash in a literal as an escape,
// as PostgreSQL does with standard_conforming_strings off, and its
// documented literals have no E'...' form: without the doubling a name
// ending in a backslash would escape the closing quote, and the literal
// would end elsewhere. The offload plan's UNLOAD, whose query is itself a
// literal, is such a statement. For PostgreSQL use QuotePostgresLiteral.
func QuoteLiteral(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// QuotePostgresLiteral quotes a string literal as PostgreSQL's
// quote_literal does: like QuoteLiteral, and a string with a backslash
// takes the escape form E'...'. That form reads the same whether the
// session has standard_conforming_strings on (a backslash in '...' is
// itself) or off (it escapes the next character); no plain '...' literal
// with a backslash is right under both.
func QuotePostgresLiteral(s string) string {
	q := QuoteLiteral(s)
	if strings.Contains(s, `\`) {
		return "E" + q
	}
	return q
}
