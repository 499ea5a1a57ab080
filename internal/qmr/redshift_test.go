package qmr

// A contract test of the query monitoring SQL for Redshift, not of
// Redshift: it runs against a real PostgreSQL in which the backend's
// fixture recreates SYS_QUERY_HISTORY's documented columns. CANCEL itself
// is Redshift's and is not sent here.

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/spec"
)

func redshiftSource(t *testing.T) (*Warehouse, *pgx.Conn) {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.DB(t)
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	b, err := os.ReadFile("../backend/redshift/testdata/fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, string(b)); err != nil {
		t.Fatal(err)
	}
	y := `platform: dpc-test
aws: {region: ap-northeast-1}
warehouse: {engine: redshift-serverless, workgroup: dpc, namespace: dpc, dsn: "${DSN}"}
`
	s, diags := spec.Parse("rs.yaml", []byte(y), spec.Options{LookupEnv: func(k string) (string, bool) { return dsn, k == "DSN" }})
	if diags.HasErrors() {
		t.Fatalf("spec: %v", diags.Errors())
	}
	w, err := NewWarehouse(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, db
}

func TestRedshiftRunningQueries(t *testing.T) {
	w, db := redshiftSource(t)
	ctx := context.Background()
	// Query 105 belongs to a user pg_user knows; 106's user is unknown.
	if _, err := db.Exec(ctx, `UPDATE sys_query_history SET user_id = (SELECT usesysid FROM pg_user WHERE usename = 'postgres') WHERE query_id = 105`); err != nil {
		t.Fatal(err)
	}
	qs, err := w.Running(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 2 {
		t.Fatalf("running %+v", qs)
	}
	long, queued := qs[0], qs[1]
	if long.ID != 105 || long.PID != 9003 || long.User != "postgres" || long.Label != "analyst" || long.Database != "dev" ||
		long.Queue != 2*time.Second || long.Execution < 697*time.Second || long.Execution > 710*time.Second || long.Key() != "105@105" {
		t.Errorf("running query %+v", long)
	}
	if queued.ID != 106 || queued.User != "102" || queued.Execution != 0 || queued.Queue < 4*time.Second || queued.Queue > 15*time.Second {
		t.Errorf("queued query %+v", queued)
	}
	// The check before CANCEL finds a finished query gone.
	found, err := w.Cancel(ctx, Query{ID: 101, PID: 9001})
	if err != nil || found {
		t.Errorf("a finished query: found %v, err %v", found, err)
	}
	if res, err := w.one(ctx, w.q("qmr_check", "105")); err != nil || len(res.Rows) != 1 || res.Rows[0][0].Text != "9003" {
		t.Errorf("check of a running query: %+v %v", res, err)
	}
}

func TestRedshiftRuleOverTheFixture(t *testing.T) {
	w, _ := redshiftSource(t)
	s := testSpec(t, "postgres://x@127.0.0.1:1/x", `  - name: long-running-query
    metric: execution_time
    threshold: 600
    action: log
  - name: queued
    metric: queue_time
    threshold: 3
    action: log
`)
	m, err := New(Options{Spec: s, Source: w})
	if err != nil {
		t.Fatal(err)
	}
	acts, err := m.Check(context.Background(), time.Now())
	if err != nil || len(acts) != 2 || acts[0].Query.ID != 105 || acts[1].Query.ID != 106 || acts[1].Rule != "queued" {
		t.Fatalf("actions %+v %v", acts, err)
	}
}
