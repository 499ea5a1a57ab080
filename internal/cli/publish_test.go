package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend/aws/awstest"
	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/publisher"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// readZip returns a zip's files and their modes.
func readZip(t *testing.T, path string) (map[string][]byte, map[string]os.FileMode) {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	files, modes := map[string][]byte{}, map[string]os.FileMode{}
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], modes[f.Name] = b, f.Mode()
	}
	return files, modes
}

// TestRenderLambdaPackagesBootstrapAndSpec: the zip holds the binary as
// an executable bootstrap and the spec file as written, and the command
// prints the module inputs.
func TestRenderLambdaPackagesBootstrapAndSpec(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "dpcops-linux-arm64")
	if err := os.WriteFile(bin, []byte("\x7fELF not really"), 0o755); err != nil {
		t.Fatal(err)
	}
	specPath := writeFile(t, "dpcops.yaml", string(spec.DefaultYAML()))
	out := filepath.Join(dir, "publisher.zip")
	r := run(t, "", "render", "lambda", "-c", specPath, "--out", out, "--binary", bin, "--arch", "arm64")
	if r.code != 0 || !strings.Contains(r.stdout, `publisher_architecture = "arm64"`) {
		t.Fatalf("%+v", r)
	}
	files, modes := readZip(t, out)
	if string(files["bootstrap"]) != "\x7fELF not really" || modes["bootstrap"]&0o111 == 0 {
		t.Errorf("bootstrap %q mode %v", files["bootstrap"], modes["bootstrap"])
	}
	if !bytes.Equal(files["dpcops.yaml"], spec.DefaultYAML()) || len(files) != 2 {
		t.Errorf("zip holds %d files; dpcops.yaml differs from the spec", len(files))
	}
	// Without --binary, this (Linux) binary is packaged with its own
	// architecture.
	r = run(t, "", "render", "lambda", "-c", specPath, "--out", out)
	if r.code != 0 || !strings.Contains(r.stdout, "publisher_architecture") {
		t.Fatalf("%+v", r)
	}
	if r = run(t, "", "render", "lambda", "-c", specPath, "--out", out, "--binary", bin, "--arch", "amd64"); r.code != 2 || !strings.Contains(r.stderr, "arm64 or x86_64") {
		t.Errorf("Go's amd64 is not a Lambda architecture: %+v", r)
	}
}

// TestRenderLambdaRefusesASpecThatNeedsTheEnvironment: the function loads
// the spec without the packager's environment, so a ${VAR} without a
// default in a part that is on is refused at packaging time, named, and
// no zip is left behind.
func TestRenderLambdaRefusesASpecThatNeedsTheEnvironment(t *testing.T) {
	t.Parallel()
	y := strings.Replace(string(spec.DefaultYAML()), "dsn: ${DPCOPS_WAREHOUSE_DSN:-}", "dsn: ${DPCOPS_WAREHOUSE_DSN}", 1)
	specPath := writeFile(t, "dpcops.yaml", y)
	out := filepath.Join(t.TempDir(), "publisher.zip")
	var o, e bytes.Buffer
	code := mainWithEnv(context.Background(), []string{"render", "lambda", "-c", specPath, "--out", out, "--binary", specPath, "--arch", "arm64"},
		IO{Stdin: strings.NewReader(""), Stdout: &o, Stderr: &e}, "v-test",
		func(k string) (string, bool) { return "postgres://u:secret@h/db", k == "DPCOPS_WAREHOUSE_DSN" })
	if code != 1 || !strings.Contains(e.String(), "DPCOPS_WAREHOUSE_DSN is not set") || strings.Contains(e.String(), "secret") {
		t.Fatalf("code %d stderr %s", code, e.String())
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused packaging left %s: %v", out, err)
	}
}

// TestPublishOnce runs the publisher from the command line against the
// local AWS fakes named in the spec's aws.endpoints, as a team tries the
// function's IAM access from a shell.
func TestPublishOnce(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
	dsn := pgtest.DB(t)
	pgtest.ExecFile(t, dsn, "../backend/redshift/testdata/fixture.sql")
	fake := awstest.New()
	t.Cleanup(fake.Close)
	fake.SetDataAPI("dpc-learning", "dev", dsn)
	fake.SetLogGroup(collect.ErrorLogGroup("dpc-learning"))
	fake.SetSeries(awstest.ExpressionKey(`SUM(SEARCH('{AWS/Redshift-Serverless,QueryType,Workgroup} MetricName="QueriesSucceeded" Workgroup="dpc-learning"', 'Sum', 60))`),
		awstest.Point{Time: time.Now().Add(-time.Minute), Value: 500})
	eps := "  endpoints: {cloudwatch: " + fake.URL + ", stepfunctions: " + fake.URL + ", logs: " + fake.URL + ", redshift_data: " + fake.URL + "}\n"
	y := strings.Replace(string(spec.DefaultYAML()), "  account_id: \"000000000000\"\n", "  account_id: \"000000000000\"\n"+eps, 1)
	r := run(t, "", "publish", "--once", "-c", writeFile(t, "dpcops.yaml", y))
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	var sum publisher.Summary
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("summary %q: %v", r.stdout, err)
	}
	if sum.Statements == 0 || sum.Readings == 0 {
		t.Errorf("summary %+v", sum)
	}
	beats := 0
	for _, d := range fake.Put() {
		if d.MetricName == publisher.HeartbeatMetric {
			beats++
		}
	}
	if beats != 1 {
		t.Errorf("%d heartbeats published", beats)
	}
	if r := run(t, "", "publish"); r.code != 2 {
		t.Errorf("publish without --once or --lambda: %+v", r)
	}
}
