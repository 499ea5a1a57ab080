package capacity

// A contract test of the capacity SQL for Redshift, not of Redshift: it
// runs against a real PostgreSQL in which the backend's fixture recreates
// SYS_SERVERLESS_USAGE and SYS_QUERY_HISTORY with their documented columns.

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/spec"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

func TestRedshiftUsageAndQueueing(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.DB(t)
	db := pgtest.Connect(t, dsn)
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
		t.Fatal(diags.Errors())
	}
	w, err := NewWarehouse(s)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	now := time.Now()
	rows, err := w.Usage(ctx, now.Add(-7*24*time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Charged != 480 || rows[0].ComputeSeconds != 480 || rows[0].Capacity != 8 || rows[0].Dur != time.Minute || rows[1].Charged != 0 {
		t.Errorf("usage rows %+v (want the two of the last 7 days, oldest first)", rows)
	}
	q, err := w.Queueing(ctx, now.Add(-2*time.Hour), now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if q.Queries != 5 || q.Queued != 1 || q.MaxQueueSeconds != 2 || q.QueuedPercent != 20 {
		t.Errorf("queueing %+v", q)
	}
	if _, err := NewWarehouse(&spec.Spec{Warehouse: spec.Warehouse{Engine: spec.EnginePostgres}}); err == nil {
		t.Error("SYS_SERVERLESS_USAGE on PostgreSQL")
	}
}
