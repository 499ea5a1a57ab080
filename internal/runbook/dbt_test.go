package runbook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadRunResults(t *testing.T) {
	run, err := ReadRunResults("testdata/run_results.json")
	if err != nil {
		t.Fatal(err)
	}
	if run.Schema != "v6" || run.Total != 4 || run.Skipped != 1 || run.Command != "build" || len(run.Failed) != 2 {
		t.Fatalf("run %+v", run)
	}
	model, test := run.Failed[0], run.Failed[1]
	if model.Name != "mart_los_by_dpc" || model.Next != "dbt run --select mart_los_by_dpc" || !strings.Contains(model.Message, `column "los" does not exist`) {
		t.Errorf("model %+v", model)
	}
	if test.Name != "not_null_stg_episodes_dpc_code" || test.Next != "dbt test --select not_null_stg_episodes_dpc_code" || test.Failures == nil || *test.Failures != 3 {
		t.Errorf("test %+v", test)
	}
}

func TestRunResultsErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	for path, want := range map[string]string{
		filepath.Join(dir, "missing.json"):                  "does not exist",
		write("bad.json", "{\n \"metadata\": {\n  oops\n}"): "line 3",
		write("old.json", `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v3.json"}, "results": []}`): "older than v4",
		write("other.json", `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v9.json"}, "results": []}`):  "not a run-results schema",
	} {
		_, err := ReadRunResults(path)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", filepath.Base(path), err, want)
		}
	}
}
