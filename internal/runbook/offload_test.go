package runbook

import (
	"strings"
	"testing"

	"github.com/dpc-learning/dpcops/internal/backend"
)

func TestOffloadPlan(t *testing.T) {
	tables := []backend.Table{
		{Schema: "raw", Name: "small", SizeMB: 10},
		{Schema: "raw", Name: "o'brien", SizeMB: 900},
		{Schema: "raw", Name: "no_dates", SizeMB: 5000},
	}
	cols := []backend.Column{
		{Schema: "raw", Table: "small", Name: "created_at", Type: "timestamp without time zone"},
		{Schema: "raw", Table: "small", Name: "id", Type: "integer"},
		{Schema: "raw", Table: "o'brien", Name: "admission_date", Type: "date"},
		{Schema: "raw", Table: "o'brien", Name: "discharge_date", Type: "date"},
		{Schema: "raw", Table: "o'brien", Name: "cost", Type: "numeric(12,2)"},
		{Schema: "raw", Table: "no_dates", Name: "code", Type: "character varying(10)"},
	}
	steps := OffloadPlan(tables, cols, 24, "s3://bucket/offload/", "arn:aws:iam::1:role/r")
	if len(steps) != 8 || steps[0].Table != "raw.o'brien" || steps[4].Table != "raw.small" {
		t.Fatalf("steps %+v: want two tables of four steps, largest first, the one without a date column left out", steps)
	}
	want := []string{
		`UNLOAD ('SELECT * FROM "raw"."o''brien" WHERE "discharge_date" < DATEADD(month, -24, GETDATE())') TO 's3://bucket/offload/raw/o''brien/' IAM_ROLE 'arn:aws:iam::1:role/r' FORMAT AS PARQUET;`,
		`CREATE EXTERNAL TABLE spectrum."raw_o'brien" ("admission_date" date, "discharge_date" date, "cost" double precision) STORED AS PARQUET LOCATION 's3://bucket/offload/raw/o''brien/';`,
		`DELETE FROM "raw"."o'brien" WHERE "discharge_date" < DATEADD(month, -24, GETDATE());`,
		`VACUUM DELETE ONLY "raw"."o'brien";`,
	}
	for i, w := range want {
		if steps[i].Statement != w {
			t.Errorf("step %d:\n got %s\nwant %s", i, steps[i].Statement, w)
		}
	}
	if !strings.Contains(steps[4].Statement, `"created_at" < DATEADD`) {
		t.Errorf("small keys on created_at: %s", steps[4].Statement)
	}
	if tables[0].Name != "small" {
		t.Error("the caller's tables were reordered")
	}
}
