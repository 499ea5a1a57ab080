package pgwire_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
)

// hostileNames are table names (and S3 keys made of them) that try to end
// a literal early.
var hostileNames = []string{
	"o'brien",
	`back\slash`,
	`both\'quote`,
	`trailing\`,
	`\`,
	`'`,
	`''\\''`,
	"line\nbreak",
	`x\'); DROP TABLE victims; --`,
	`x'); DROP TABLE victims; --`,
	`病院\'`,
	`"raw"."a\'b" WHERE 1=1`,
}

// TestQuotedLiteralsReadBackAsTheyWere asks a real PostgreSQL to read
// each quoted name back. QuotePostgresLiteral must hold under both
// standard_conforming_strings settings; QuoteLiteral (Redshift's
// QUOTE_LITERAL) where backslashes escape, as in Redshift, which is
// PostgreSQL with the setting off. The UNLOAD of the offload plan quotes
// its whole query this way: the query read back must be the one written.
func TestQuotedLiteralsReadBackAsTheyWere(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// The victim shows that no quoted name ran as SQL of its own.
	if _, err := conn.Exec(ctx, "CREATE TABLE victims (n int)"); err != nil {
		t.Fatal(err)
	}
	readBack := func(setting, literal string) (string, error) {
		if _, err := conn.Exec(ctx, "SET standard_conforming_strings = "+setting); err != nil {
			t.Fatal(err)
		}
		var got string
		err := conn.QueryRow(ctx, "SELECT "+literal+"::text", pgx.QueryExecModeExec).Scan(&got)
		return got, err
	}
	for _, name := range hostileNames {
		unload := "SELECT * FROM " + pgwire.QualifiedName("raw", name) + ` WHERE "d" < DATEADD(month, -24, GETDATE())`
		for _, s := range []string{name, unload, "s3://bucket/offload/raw/" + name + "/"} {
			for _, setting := range []string{"on", "off"} {
				if got, err := readBack(setting, pgwire.QuotePostgresLiteral(s)); err != nil || got != s {
					t.Errorf("standard_conforming_strings %s: QuotePostgresLiteral(%q) read back as %q, %v", setting, s, got, err)
				}
			}
			if got, err := readBack("off", pgwire.QuoteLiteral(s)); err != nil || got != s {
				t.Errorf("backslashes escaping: QuoteLiteral(%q) read back as %q, %v", s, got, err)
			}
		}
	}
	if _, err := conn.Exec(ctx, "SELECT count(*) FROM victims"); err != nil {
		t.Errorf("a quoted name ran as SQL: %v", err)
	}
}
