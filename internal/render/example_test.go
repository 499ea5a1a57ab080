package render

import (
	"bytes"
	"os"
	"slices"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// TestCIExampleCallsTheDefaultModule keeps examples/ci/infra/main.tf in
// step with the module of the default spec: it passes every required
// input, and only inputs the module declares.
func TestCIExampleCallsTheDefaultModule(t *testing.T) {
	data, err := os.ReadFile("../../examples/ci/infra/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(hclwrite.Format(data), data) {
		t.Error("examples/ci/infra/main.tf is not terraform fmt clean")
	}
	f, diags := hclsyntax.ParseConfig(data, "main.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var passed []string
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type == "module" && b.Labels[0] == "operations" {
			for name := range b.Body.Attributes {
				if name != "source" && name != "providers" {
					passed = append(passed, name)
				}
			}
		}
	}
	files, err := Terraform(defaultSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	var declared, required []string
	for _, b := range parseModule(t, files).blocks {
		if b.Type != "variable" {
			continue
		}
		declared = append(declared, b.Labels[0])
		if _, ok := b.Body.Attributes["default"]; !ok {
			required = append(required, b.Labels[0])
		}
	}
	for _, r := range required {
		if !slices.Contains(passed, r) {
			t.Errorf("the example does not pass the required input %s", r)
		}
	}
	for _, p := range passed {
		if !slices.Contains(declared, p) {
			t.Errorf("the example passes %s, which the module does not declare", p)
		}
	}
}
