package render

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/dpc-learning/dpcops/internal/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// noEnv is an environment with no variables set, as in CI.
func noEnv(string) (string, bool) { return "", false }

// defaultSpec loads the built-in spec with an empty environment.
func defaultSpec(t testing.TB) *spec.Spec {
	t.Helper()
	s, diags := spec.Default(spec.Options{LookupEnv: noEnv})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return s
}

// parseSpec loads a spec from YAML text.
func parseSpec(t testing.TB, yaml string) *spec.Spec {
	t.Helper()
	s, diags := spec.Parse("test.yaml", []byte(yaml), spec.Options{LookupEnv: noEnv})
	if diags.HasErrors() {
		t.Fatalf("%v\n%s", diags.Errors(), yaml)
	}
	return s
}

// TestGoldenModule renders the default spec and compares every file with
// testdata/operations; go test -update rewrites them.
func TestGoldenModule(t *testing.T) {
	files, err := Terraform(defaultSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("testdata", "operations")
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := WriteDir(dir, files); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Check(dir, files)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Equal() {
		t.Fatalf("the module differs from testdata (go test ./internal/render -update rewrites it):\n%s", rep.Diff)
	}
}

// TestGoldenDashboard compares `render dashboard` of the default spec with
// testdata/dashboard.json.
func TestGoldenDashboard(t *testing.T) {
	got, err := Dashboard(defaultSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "dashboard.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("dashboard differs from %s (-update rewrites it):\n%s", path, unifiedDiff(path, "rendered", string(want), string(got)))
	}
}
