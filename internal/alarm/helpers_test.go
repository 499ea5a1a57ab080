package alarm

import (
	"testing"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// defaultSpec is the built-in spec, in an environment without variables
// (its channels that need secrets are then off).
func defaultSpec(t testing.TB) *spec.Spec {
	t.Helper()
	s, diags := spec.Default(spec.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatalf("default spec: %v", diags.Errors())
	}
	return s
}

// parseSpec loads a spec from YAML text; it must be valid.
func parseSpec(t testing.TB, yaml string) *spec.Spec {
	t.Helper()
	s, diags := spec.Parse("test.yaml", []byte(yaml), spec.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatalf("spec: %v", diags.Errors())
	}
	return s
}
