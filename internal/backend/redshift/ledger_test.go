package redshift

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
)

// TestLedgerScriptDefaultsThePipeline checks that warehouse init creates
// the ledger with the spec's pipeline as the default of its pipeline
// column, quoted as Redshift reads a literal (a quote and a backslash
// doubled).
func TestLedgerScriptDefaultsThePipeline(t *testing.T) {
	got := ledgerScript(`dpc's \elt`)
	if want := `pipeline    VARCHAR(256) NOT NULL DEFAULT 'dpc''s \\elt',`; !strings.Contains(got, want) {
		t.Errorf("the ledger's pipeline column lacks %q:\n%s", want, got)
	}
}

// TestPipelineDefaultCheck reads the default of ops.pipeline_runs.pipeline
// from SVV_COLUMNS (recreated on PostgreSQL by the fixture): a ledger made
// before the default, or for another pipeline, is reported, since Redshift
// cannot alter it; one with the spec's pipeline is not.
func TestPipelineDefaultCheck(t *testing.T) {
	dsn := pgtest.DB(t)
	ctx := context.Background()
	fixture, err := os.ReadFile("testdata/fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	conn := pgtest.Connect(t, dsn)
	if _, err := conn.Exec(ctx, string(fixture)); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	w := New(pgwire.New(dsn, 5*time.Second, "dpcops"), 5*time.Second)
	defer w.Close()
	if err := w.checkPipelineDefault(ctx, pgwire.QuoteLiteral("dpc-elt")); !errors.Is(err, ErrNoPipelineDefault) {
		t.Errorf("a ledger without a default: %v", err)
	}
	if _, err := conn.Exec(ctx, `ALTER TABLE ops.pipeline_runs ALTER COLUMN pipeline SET DEFAULT 'dpc-elt'`); err != nil {
		t.Fatal(err)
	}
	if err := w.checkPipelineDefault(ctx, pgwire.QuoteLiteral("dpc-elt")); err != nil {
		t.Errorf("a ledger that defaults to the pipeline: %v", err)
	}
	if err := w.checkPipelineDefault(ctx, pgwire.QuoteLiteral("dpc")); !errors.Is(err, ErrNoPipelineDefault) {
		t.Errorf("a ledger that defaults to another pipeline: %v", err)
	}
}
