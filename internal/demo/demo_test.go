package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/backend/postgres"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

func TestGeneratedFilesParseUnlessSpoiled(t *testing.T) {
	g := newGenerator(7)
	b := g.batch(1, time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), 30, 0)
	if len(b.form1) != 30 || len(b.ef) < 30*3 {
		t.Fatalf("%d admissions, %d EF lines", len(b.form1), len(b.ef))
	}
	for i, r := range b.form1 {
		if _, le := parseForm1(r); le != nil {
			t.Fatalf("form1 row %d %v: %+v", i, r, le)
		}
		if len(r[9]) != 14 {
			t.Errorf("DPC code %q is not 14 characters", r[9])
		}
	}
	for i, r := range b.ef {
		if _, le := parseEF(r); le != nil {
			t.Fatalf("EF row %d %v: %+v", i, r, le)
		}
	}
	bad := newGenerator(7).batch(1, time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), 30, 5)
	rejected := 0
	for _, r := range bad.ef {
		if _, le := parseEF(r); le != nil {
			rejected++
			if le.code != 1207 && le.code != 1205 && le.code != 1214 {
				t.Errorf("error code %d", le.code)
			}
		}
	}
	if rejected == 0 || rejected > 5 {
		t.Errorf("%d rows rejected, want 1 to 5", rejected)
	}
}

func setupDemo(t *testing.T) (*Demo, *pgx.Conn) {
	t.Helper()
	dsn := pgtest.DB(t)
	ctx := context.Background()
	w := postgres.New(pgwire.New(dsn, 5*time.Second, "dpcops"), 5*time.Second)
	defer w.Close()
	if err := w.Init(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := Setup(ctx, Options{DSN: dsn, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return d, conn
}

func TestPipelineLoadsTheWarehouse(t *testing.T) {
	_, conn := setupDemo(t)
	ctx := context.Background()
	var runs, episodes, marts int
	conn.QueryRow(ctx, `SELECT count(*) FROM ops.pipeline_runs WHERE status = 'succeeded' AND finished_at IS NOT NULL`).Scan(&runs)
	conn.QueryRow(ctx, `SELECT count(*) FROM staging.episodes`).Scan(&episodes)
	conn.QueryRow(ctx, `SELECT count(*) FROM mart.los_by_dpc`).Scan(&marts)
	if runs != 2 || episodes == 0 || marts == 0 {
		t.Fatalf("runs %d, episodes %d, mart rows %d", runs, episodes, marts)
	}
	var los float64
	conn.QueryRow(ctx, `SELECT avg(avg_los) FROM mart.los_by_dpc WHERE dpc_code = '160800xx01xxxx'`).Scan(&los)
	if los < 5 || los > 60 {
		t.Errorf("femoral neck fracture stays average %v days", los)
	}
}

func TestMalformedRowsFailTheRunAndAreRecorded(t *testing.T) {
	d, conn := setupDemo(t)
	ctx := context.Background()
	d.bad.Store(4)
	if _, err := d.RunPipeline(ctx); err != nil {
		t.Fatal(err)
	}
	var status, step, msg string
	conn.QueryRow(ctx, `SELECT status, failed_step, error FROM ops.pipeline_runs ORDER BY id DESC LIMIT 1`).Scan(&status, &step, &msg)
	if status != "failed" || step != "copy_raw_ef" || !strings.Contains(msg, "see ops.load_errors") {
		t.Errorf("run: %s %s %q", status, step, msg)
	}
	rows, err := conn.Query(ctx, `SELECT file_name, line_number, error_code, error_message FROM ops.load_errors`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var file, message string
		var line int64
		var code int
		rows.Scan(&file, &line, &code, &message)
		if !strings.HasPrefix(file, "s3://dpc-learning-raw/ef/") || line < 1 || message == "" {
			t.Errorf("load error %s:%d %d %s", file, line, code, message)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no load errors recorded")
	}
	// The next run is clean again.
	d.RunPipeline(ctx)
	conn.QueryRow(ctx, `SELECT status FROM ops.pipeline_runs ORDER BY id DESC LIMIT 1`).Scan(&status)
	if status != "succeeded" {
		t.Errorf("next run %s", status)
	}
}

func TestScenarioFitsItsCycle(t *testing.T) {
	d := &Demo{}
	var last time.Duration
	for _, s := range d.steps() {
		if s.at <= last || s.at >= cycleLength || s.name == "" {
			t.Errorf("step %q at %v", s.name, s.at)
		}
		last = s.at
	}
}
