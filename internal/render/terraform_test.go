package render

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// The machine image carries Terraform and the real AWS provider
// (shared/reference/aws-facts.md §11). These tests run them on the
// rendered module, offline: init from the plugin directory, validate
// against the provider's schema and validation functions, and plan through
// `terraform test` with fake keys, the provider's skip_* flags and
// override_data for the data sources that would call AWS.
const (
	terraformBin   = "/usr/local/bin/terraform"
	tfPluginDir    = "/opt/tf-plugins"
	awsProviderDir = tfPluginDir + "/registry.terraform.io/hashicorp/aws/5.100.0"
	// tfTimeout bounds one terraform command; each takes seconds.
	tfTimeout = 3 * time.Minute
)

// needTerraform skips the test where Terraform or the provider is missing,
// except under CI, where the module must be checked for real and a missing
// tool is a failure.
func needTerraform(t *testing.T) {
	t.Helper()
	for _, p := range []string{terraformBin, awsProviderDir} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("CI checks the module with the real Terraform and AWS provider, and %s is missing: %v", p, err)
			}
			t.Skipf("%s is missing (%v): the module is not checked with the real provider here; CI fails instead", p, err)
		}
	}
}

// tfRoot is a root configuration that calls a rendered module, in a
// directory of the test's own: <dir>/modules/operations and <dir>/infra.
type tfRoot struct {
	t     *testing.T
	dir   string
	infra string
	env   []string
}

// newTFRoot writes the module and the root configuration main.tf, and runs
// terraform init from the plugin directory.
func newTFRoot(t *testing.T, files Files, mainTF []byte) *tfRoot {
	t.Helper()
	dir := t.TempDir()
	if err := WriteDir(filepath.Join(dir, "modules", "operations"), files); err != nil {
		t.Fatal(err)
	}
	r := &tfRoot{t: t, dir: dir, infra: filepath.Join(dir, "infra")}
	if err := os.MkdirAll(r.infra, 0o755); err != nil {
		t.Fatal(err)
	}
	r.write("main.tf", mainTF)
	rc := filepath.Join(dir, "terraformrc")
	if err := os.WriteFile(rc, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Only this test's settings: no TF_VAR_ or TF_CLI_ARGS of the
	// developer's shell, no AWS profile or keys that could reach AWS.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TF_") && !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "CHECKPOINT_") {
			r.env = append(r.env, kv)
		}
	}
	r.env = append(r.env,
		"TF_DATA_DIR="+filepath.Join(dir, "tfdata"),
		"TF_PLUGIN_CACHE_DIR="+filepath.Join(dir, "plugin-cache"),
		"TF_CLI_CONFIG_FILE="+rc,
		"TF_IN_AUTOMATION=1",
		"CHECKPOINT_DISABLE=1",
		"AWS_EC2_METADATA_DISABLED=true",
	)
	if err := os.MkdirAll(filepath.Join(dir, "plugin-cache"), 0o755); err != nil {
		t.Fatal(err)
	}
	r.must("init", "-backend=false", "-plugin-dir="+tfPluginDir, "-input=false")
	return r
}

func (r *tfRoot) write(name string, data []byte) {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.infra, name), data, 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// run runs terraform in the root configuration's directory.
func (r *tfRoot) run(args ...string) (string, error) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), tfTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, terraformBin, append(args, "-no-color")...)
	cmd.Dir, cmd.Env = r.infra, r.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		r.t.Fatalf("terraform %s did not finish in %s:\n%s", strings.Join(args, " "), tfTimeout, out.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		r.t.Fatalf("terraform %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), err
}

func (r *tfRoot) must(args ...string) string {
	r.t.Helper()
	out, err := r.run(args...)
	if err != nil {
		r.t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// fails runs a command that must fail with want in its output.
func (r *tfRoot) fails(want string, args ...string) {
	r.t.Helper()
	out, err := r.run(args...)
	if err == nil {
		r.t.Fatalf("terraform %s passed; want it to fail with %q:\n%s", strings.Join(args, " "), want, out)
	}
	if !strings.Contains(strings.Join(strings.Fields(out), " "), want) {
		r.t.Fatalf("terraform %s failed without %q:\n%s", strings.Join(args, " "), want, out)
	}
}

// fakeProviders are the provider configurations a plan runs with: fake
// keys, nothing asked of AWS, and aws.chatbot in chatbotRegion.
func fakeProviders(region, chatbotRegion string) string {
	p := func(alias, region string) string {
		a := ""
		if alias != "" {
			a = fmt.Sprintf("  alias                       = %q\n", alias)
		}
		return fmt.Sprintf(`provider "aws" {
%s  region                      = %q
  access_key                  = "AKIAIOSFODNN7EXAMPLE"
  secret_key                  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}
`, a, region)
	}
	return p("", region) + "\n" + p("chatbot", chatbotRegion)
}

// ciTest is a terraform test file for examples/ci/infra: the inputs the CI
// workflow takes from repository secrets, and the data sources that would
// read the account and the workgroup from AWS.
func ciTest(s *spec.Spec, chatbotRegion, maintenanceTarget, runs string) []byte {
	return []byte(fakeProviders(s.AWS.Region, chatbotRegion) + fmt.Sprintf(`
variables {
  pagerduty_integration_url = "https://events.pagerduty.com/integration/0123/enqueue"
  opsgenie_integration_url  = "https://api.opsgenie.com/v1/json/cloudwatch?apiKey=0123"
  email_addresses           = ["ops@example.org"]
  slack_team_id             = "T0123ABCD"
  slack_channel_id          = "C0123ABCD"
  maintenance_target_arn    = %q
  maintenance_role_arn      = "arn:aws:iam::%[2]s:role/dpcops-scheduler"
  publisher_zip             = "publisher.zip"
}

override_data {
  target = module.operations.data.aws_caller_identity.current
  values = { account_id = %[2]q }
}

override_data {
  target = module.operations.data.aws_redshiftserverless_workgroup.existing
  values = { arn = "arn:aws:redshift-serverless:%[3]s:%[2]s:workgroup/0123" }
}
%[4]s`, maintenanceTarget, s.AWS.AccountID, s.AWS.Region, runs))
}

// TestTerraformPlansTheCIExample renders the default spec's module, puts
// examples/ci/infra beside it as the CI workflow does, and runs init,
// fmt -check, validate, and plans with the workgroup read and managed.
// Then the negative controls: a plan with the Chatbot provider in a region
// without the Chatbot API, and one with an ECS maintenance target, fail.
func TestTerraformPlansTheCIExample(t *testing.T) {
	needTerraform(t)
	t.Parallel()
	s := defaultSpec(t)
	files, err := Terraform(s)
	if err != nil {
		t.Fatal(err)
	}
	mainTF, err := os.ReadFile("../../examples/ci/infra/main.tf")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := newTFRoot(t, files, mainTF)
	writePublisherZip(t, filepath.Join(r.infra, "publisher.zip"))
	r.must("fmt", "-check", "-recursive", r.dir)
	r.must("validate")
	lambda := fmt.Sprintf("arn:aws:lambda:%s:%s:function:dpcops-maintenance", s.AWS.Region, s.AWS.AccountID)
	r.write("plan.tftest.hcl", ciTest(s, "ap-southeast-1", lambda, `
run "workgroup_read" {
  command = plan
}

run "workgroup_managed" {
  command = plan
  variables {
    manage_workgroup = true
  }
}
`))
	out := r.must("test", "-filter=plan.tftest.hcl")
	if !strings.Contains(out, "2 passed, 0 failed") {
		t.Fatalf("want both plans to pass:\n%s", out)
	}
	if err := os.Remove(filepath.Join(r.infra, "plan.tftest.hcl")); err != nil {
		t.Fatal(err)
	}

	// A Chatbot configuration created through ap-northeast-1 would fail
	// at apply; the module fails the plan instead.
	r.write("chatbot.tftest.hcl", ciTest(s, s.AWS.Region, lambda, "\nrun \"plan\" {\n  command = plan\n}\n"))
	r.fails("AWS Chatbot's API is served from us-east-2, us-west-2, eu-west-1, ap-southeast-1 only", "test", "-filter=chatbot.tftest.hcl")
	if err := os.Remove(filepath.Join(r.infra, "chatbot.tftest.hcl")); err != nil {
		t.Fatal(err)
	}
	ecs := fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/ops", s.AWS.Region, s.AWS.AccountID)
	r.write("ecs.tftest.hcl", ciTest(s, "ap-southeast-1", ecs, "\nrun \"plan\" {\n  command = plan\n}\n"))
	r.fails("maintenance_target_arn must be a Lambda function or Step Functions state machine ARN", "test", "-filter=ecs.tftest.hcl")
	if err := os.Remove(filepath.Join(r.infra, "ecs.tftest.hcl")); err != nil {
		t.Fatal(err)
	}
	// Lambda has no amd64: the name Go gives it is refused at plan time.
	r.write("arch.tftest.hcl", ciTest(s, "ap-southeast-1", lambda, "\nrun \"plan\" {\n  command = plan\n  variables {\n    publisher_architecture = \"amd64\"\n  }\n}\n"))
	r.fails("publisher_architecture must be arm64 or x86_64", "test", "-filter=arch.tftest.hcl")
	t.Logf("init, fmt, validate, two plans and three refused plans: %s", time.Since(start).Round(time.Millisecond))
}

// writePublisherZip writes a zip of the form render lambda writes, for the
// plan's filebase64sha256: a bootstrap and a spec.
func writePublisherZip(t *testing.T, path string) {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for _, name := range []string{"bootstrap", "dpcops.yaml"} {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(name))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTerraformValidatesEveryExample validates the module of the default
// spec, of every example spec that has an AWS form, and of a small spec
// without Slack, lease or log group, each called by a root configuration
// that passes every required input.
func TestTerraformValidatesEveryExample(t *testing.T) {
	needTerraform(t)
	t.Parallel()
	specs := map[string]*spec.Spec{"default": defaultSpec(t), "small": parseSpec(t, baseSpec)}
	paths, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no example specs: %v", err)
	}
	for _, path := range paths {
		s, diags, err := spec.Load(path, spec.Options{LookupEnv: noEnv})
		if err != nil || diags.HasErrors() {
			t.Fatalf("%s: %v %v", path, err, diags)
		}
		if s.Warehouse.Engine != spec.EngineRedshiftServerless {
			t.Logf("%s: warehouse.engine %s has no AWS form", path, s.Warehouse.Engine)
			continue
		}
		specs[filepath.Base(path)] = s
	}
	seen := map[string]string{}
	for _, name := range sortedKeys(specs) {
		s := specs[name]
		files, err := Terraform(s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		key := string(bytes.Join(filesBytes(files), []byte{0}))
		if other, ok := seen[key]; ok {
			t.Logf("%s renders the module of %s", name, other)
			continue
		}
		seen[key] = name
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			r := newTFRoot(t, files, callerOf(t, s, files))
			r.must("validate")
			t.Logf("init and validate: %s", time.Since(start).Round(time.Millisecond))
		})
	}
}

func filesBytes(f Files) [][]byte {
	var out [][]byte
	for _, n := range f.Names() {
		out = append(out, []byte(n), f[n])
	}
	return out
}

// callerOf writes a root configuration that passes the module every
// required input, with values of the right type and form.
func callerOf(t *testing.T, s *spec.Spec, files Files) []byte {
	t.Helper()
	var b strings.Builder
	b.WriteString(fakeProviders(s.AWS.Region, "ap-southeast-1"))
	b.WriteString("\nmodule \"operations\" {\n  source = \"../modules/operations\"\n  providers = {\n    aws         = aws\n    aws.chatbot = aws.chatbot\n  }\n")
	for _, v := range parseModule(t, files).blocks {
		if v.Type != "variable" || v.Body.Attributes["default"] != nil {
			continue
		}
		name := v.Labels[0]
		typ := string(v.Body.Attributes["type"].Expr.Range().SliceBytes(files["variables.tf"]))
		fmt.Fprintf(&b, "  %s = %s\n", name, sampleInput(name, typ, s))
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

func sampleInput(name, typ string, s *spec.Spec) string {
	switch {
	case typ == "list(string)":
		return `["ops@example.org"]`
	case name == "maintenance_target_arn":
		return fmt.Sprintf("%q", "arn:aws:lambda:"+s.AWS.Region+":"+s.AWS.AccountID+":function:dpcops-maintenance")
	case strings.HasSuffix(name, "_arn"):
		return fmt.Sprintf("%q", "arn:aws:iam::"+s.AWS.AccountID+":role/dpcops")
	case strings.HasSuffix(name, "_url"):
		return `"https://example.org/integration/0123"`
	}
	return `"X0123ABCD"`
}

// TestTerraformRefusesBadModules are the negative controls: validate with
// the real provider fails on an argument the provider does not know and
// on a value its validation refuses, so a passing validate means
// something.
func TestTerraformRefusesBadModules(t *testing.T) {
	needTerraform(t)
	t.Parallel()
	s := defaultSpec(t)
	for _, tc := range []struct {
		name, file, old, new, want string
	}{
		{"unknown argument", "alarms.tf", "comparison_operator =", "comparison_operatr  =", `An argument named "comparison_operatr" is not expected here`},
		{"refused value", "maintenance.tf", `mode = "OFF"`, `mode = "SOMETIMES"`, `expected mode to be one of ["OFF" "FLEXIBLE"], got SOMETIMES`},
		{"unknown provider alias", "notifications.tf", "provider              = aws.chatbot", "provider              = aws.slack  ", `provider["registry.terraform.io/hashicorp/aws"].slack is required`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files, err := Terraform(s)
			if err != nil {
				t.Fatal(err)
			}
			src := string(files[tc.file])
			if !strings.Contains(src, tc.old) {
				t.Fatalf("%s has no %q:\n%s", tc.file, tc.old, src)
			}
			files[tc.file] = []byte(strings.Replace(src, tc.old, tc.new, 1))
			if _, diags := hclsyntax.ParseConfig(files[tc.file], tc.file, hcl.InitialPos); diags.HasErrors() {
				t.Fatalf("the corrupted %s must still parse: %v", tc.file, diags)
			}
			r := newTFRoot(t, files, callerOf(t, s, files))
			r.fails(tc.want, "validate")
		})
	}
}
