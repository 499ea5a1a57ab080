package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/store"
)

// runWithDSN runs dpcops with DPCOPS_WAREHOUSE_DSN set.
func runWithDSN(t *testing.T, dsn string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := mainWithEnv(context.Background(), args, IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, "v-test",
		func(k string) (string, bool) { return dsn, k == "DPCOPS_WAREHOUSE_DSN" })
	return result{code, out.String(), errb.String()}
}

func TestMaintenancePlanAndRun(t *testing.T) {
	dsn := pgtest.DB(t)
	ctx := context.Background()
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	for _, sql := range []string{
		`CREATE TABLE bloated (id int PRIMARY KEY, pad text) WITH (autovacuum_enabled = false)`,
		`INSERT INTO bloated SELECT i, 'x' FROM generate_series(1, 5000) i`,
		`SELECT pg_stat_force_next_flush()`,
		`ANALYZE bloated`,
		`DELETE FROM bloated WHERE id % 2 = 0`,
		`SELECT pg_stat_force_next_flush()`,
	} {
		if _, err := db.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	cfg := "../../examples/local-postgres.yaml"
	r := runWithDSN(t, dsn, "maintenance", "plan", "--format", "json", "-c", cfg)
	if r.code != 0 {
		t.Fatalf("plan: %+v", r)
	}
	var items []map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &items); err != nil {
		t.Fatalf("plan JSON: %v\n%s", err, r.stdout)
	}
	// Deleting half the rows is also a modification ANALYZE should follow.
	want := map[string][2]string{
		"analyze-after-pipeline":   {`ANALYZE "public"."bloated"`, "2500 rows modified since the last ANALYZE"},
		"weekly-vacuum":            {`VACUUM "public"."bloated"`, "dead rows 50 % ≥ 20 %"},
		"vacuum-full-unused-space": {`VACUUM FULL "public"."bloated"`, "unused_percent 50 ≥ 20 (when)"},
	}
	if len(items) != 3 {
		t.Fatalf("plan %s", r.stdout)
	}
	for _, it := range items {
		w := want[it["job"]]
		if w[0] != it["statement"] || it["table"] != "public.bloated" || !strings.Contains(it["reason"], w[1]) || it["action"] == "" {
			t.Errorf("item %v", it)
		}
	}
	if r := runWithDSN(t, dsn, "maintenance", "plan", "--job", "weekly-vacuum", "-c", cfg); r.code != 0 ||
		!strings.Contains(r.stdout, "weekly-vacuum") || strings.Contains(r.stdout, "vacuum-full") {
		t.Errorf("text plan of one job: %+v", r)
	}
	data := t.TempDir()
	if r := runWithDSN(t, dsn, "maintenance", "run", "--dry-run", "--data", data, "-c", cfg); r.code != 0 || !strings.Contains(r.stdout, "planned") {
		t.Errorf("dry run: %+v", r)
	}
	r = runWithDSN(t, dsn, "maintenance", "run", "--job", "weekly-vacuum", "--data", data, "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "succeeded") || !strings.Contains(r.stdout, `VACUUM "public"."bloated"`) {
		t.Fatalf("run: %+v", r)
	}
	r = runWithDSN(t, dsn, "maintenance", "runs", "--format", "json", "--data", data, "-c", cfg)
	var runs []struct {
		Job, Target, Outcome, Trigger string
		Before, After                 map[string]float64
	}
	if err := json.Unmarshal([]byte(r.stdout), &runs); err != nil || len(runs) != 1 {
		t.Fatalf("runs: %v %+v", err, r)
	}
	if runs[0].Outcome != "succeeded" || runs[0].Trigger != "manual" || runs[0].Before["dead_rows"] != 2500 || runs[0].After["dead_rows"] != 0 {
		t.Errorf("recorded %+v", runs[0])
	}
	if r := runWithDSN(t, dsn, "maintenance", "compression", "--format", "json", "--data", data, "-c", cfg); r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("compression report: %+v", r)
	}
	if r := runWithDSN(t, dsn, "maintenance", "plan", "--format", "yaml", "-c", cfg); r.code != 2 {
		t.Errorf("bad format: %+v", r)
	}
	if r := runWithDSN(t, dsn, "maintenance", "run", "--job", "no-such-job", "--data", data, "-c", cfg); r.code != 1 || !strings.Contains(r.stderr, `no maintenance job named "no-such-job"`) {
		t.Errorf("unknown job: %+v", r)
	}
}

func TestCapacityReport(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	var batch []store.Datapoint
	for at := time.Date(2026, 10, 1, 0, 0, 0, 0, tokyo); at.Before(time.Date(2026, 10, 3, 0, 0, 0, 0, tokyo)); at = at.Add(time.Minute) {
		v := 0.0
		if at.Hour() == 2 {
			v = 32
		}
		batch = append(batch, store.Datapoint{Metric: "ComputeCapacity", Dims: "Environment=local", Time: at, Value: v})
	}
	if err := st.InsertDatapoints(ctx, batch); err != nil {
		t.Fatal(err)
	}
	st.Close()
	cfg := "../../examples/local-postgres.yaml"
	r := runWithDSN(t, "postgres://x@127.0.0.1:1/x", "capacity", "report", "--month", "2026-10", "--format", "json", "--data", data, "-c", cfg)
	if r.code != 0 {
		t.Fatalf("report: %+v", r)
	}
	var rep struct {
		Month        string  `json:"month"`
		RPUHours     float64 `json:"rpu_hours"`
		AtMaxPercent float64 `json:"at_max_percent"`
		Advice       struct{ Verdict string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Month != "2026-10" || rep.RPUHours != 64 || rep.AtMaxPercent != 100 || rep.Advice.Verdict != "raise" {
		t.Fatalf("report %+v %v\n%s", rep, err, r.stdout)
	}
	r = runWithDSN(t, "postgres://x@127.0.0.1:1/x", "capacity", "report", "--month", "2026-10", "--data", data, "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "Capacity report 2026-10") || !strings.Contains(r.stdout, "Advice (raise)") {
		t.Errorf("text report: %+v", r)
	}
	if r := runWithDSN(t, "", "capacity", "report", "--month", "October", "--data", data, "-c", cfg); r.code != 2 {
		t.Errorf("bad month: %+v", r)
	}
	if r := runWithDSN(t, "", "capacity", "report", "--sys-usage", "--data", data, "-c", cfg); r.code != 2 {
		t.Errorf("--sys-usage on PostgreSQL: %+v", r)
	}
}
