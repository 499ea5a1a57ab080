package cli

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
)

// TestWarehouseInitDefaultsThePipeline is the ledger contract: after
// warehouse init, a loader that writes only started_at, finished_at,
// status, failed_step and error records a run of the spec's pipeline.
// Init sets the default on a ledger made before it had one, runs twice,
// and follows a renamed pipeline; the name goes in as a literal, quotes
// and backslashes included.
func TestWarehouseInitDefaultsThePipeline(t *testing.T) {
	dsn := pgtest.DB(t)
	ctx := context.Background()
	conn := pgtest.Connect(t, dsn)
	// A ledger as warehouse init made it before: pipeline NOT NULL, no
	// default, one run already recorded.
	if _, err := conn.Exec(ctx, `CREATE SCHEMA ops;
		CREATE TABLE ops.pipeline_runs (id bigserial PRIMARY KEY, pipeline text NOT NULL,
			started_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz,
			status text NOT NULL DEFAULT 'running', failed_step text, error text);
		INSERT INTO ops.pipeline_runs (pipeline, status) VALUES ('old', 'succeeded')`); err != nil {
		t.Fatal(err)
	}
	insert := func() string {
		t.Helper()
		var pipeline string
		err := conn.QueryRow(ctx, `INSERT INTO ops.pipeline_runs (started_at, finished_at, status, failed_step, error)
			VALUES (now() - interval '1 hour', now(), 'failed', 'load_marts', 'disk full') RETURNING pipeline`).Scan(&pipeline)
		if err != nil {
			t.Fatalf("the minimal insert: %v", err)
		}
		return pipeline
	}
	for _, tc := range []struct{ name, yaml string }{
		{`dpc's \elt`, `"dpc's \\elt"`},
		// A renamed pipeline: init sets the new default.
		{"dpc-elt", "dpc-elt"},
	} {
		name := tc.name
		spec := writeFile(t, "ledger.yaml", "platform: p\nwarehouse: {engine: postgres, dsn: \"${DPCOPS_WAREHOUSE_DSN}\"}\n"+
			"pipeline: {kind: ledger, name: "+tc.yaml+"}\n")
		for i := range 2 {
			if r := runWithDSN(t, dsn, "warehouse", "init", "-c", spec); r.code != 0 || r.stdout != "ops schema ready (postgres)\n" || r.stderr != "" {
				t.Fatalf("%s: init #%d: %+v", name, i+1, r)
			}
		}
		if got := insert(); got != name {
			t.Errorf("a run inserted without pipeline belongs to %q, want %q", got, name)
		}
	}
	var runs int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM ops.pipeline_runs`).Scan(&runs); err != nil || runs != 3 {
		t.Errorf("%d runs (%v), want the earlier one and two new", runs, err)
	}
}

// TestWarehouseInitAgainTakesNoLock: init with an unchanged pipeline
// name alters nothing, since ALTER TABLE would take an exclusive lock on
// the ledger and stall a loader writing to it. An event trigger records
// every ALTER TABLE the server runs.
func TestWarehouseInitAgainTakesNoLock(t *testing.T) {
	dsn := pgtest.DB(t)
	ctx := context.Background()
	conn := pgtest.Connect(t, dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	// Event triggers are database-wide: name this one after the database.
	trigger := "log_ddl_" + cfg.Database
	if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE TABLE public.ddl_log (tag text, object text);
		CREATE FUNCTION public.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$
		BEGIN INSERT INTO public.ddl_log SELECT command_tag, object_identity FROM pg_event_trigger_ddl_commands(); END $$;
		CREATE EVENT TRIGGER %s ON ddl_command_end EXECUTE FUNCTION public.log_ddl()`, trigger)); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, "DROP EVENT TRIGGER "+trigger)
	spec := writeFile(t, "ledger.yaml", "platform: p\nwarehouse: {engine: postgres, dsn: \"${DPCOPS_WAREHOUSE_DSN}\"}\n"+
		"pipeline: {kind: ledger, name: dpc-elt}\n")
	alters := func() int {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM public.ddl_log WHERE tag = 'ALTER TABLE' AND object = 'ops.pipeline_runs'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if r := runWithDSN(t, dsn, "warehouse", "init", "-c", spec); r.code != 0 {
		t.Fatalf("first init: %+v", r)
	}
	first := alters()
	if r := runWithDSN(t, dsn, "warehouse", "init", "-c", spec); r.code != 0 {
		t.Fatalf("second init: %+v", r)
	}
	if n := alters(); first != 1 || n != first {
		t.Errorf("ALTER TABLE ops.pipeline_runs ran %d times at the first init and %d at the second, want 1 and 0", first, n-first)
	}
}
