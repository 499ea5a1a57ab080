package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dpc-learning/dpcops/internal/spec"
)

func TestRenderTerraformThenCheck(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "modules", "operations")
	r := run(t, "", "render", "terraform", "--out", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "wrote 12 files") {
		t.Fatalf("%+v", r)
	}
	if r = run(t, "", "render", "check", "--dir", dir); r.code != 0 || r.stderr != "" {
		t.Fatalf("a freshly rendered module must pass the check: %+v", r)
	}
	path := filepath.Join(dir, "alarms.tf")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), "threshold           = 90", "threshold           = 95", 1)
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, "", "render", "check", "--dir", dir)
	if r.code != 1 || !strings.Contains(r.stdout, "-  threshold           = 95") || !strings.Contains(r.stdout, "+  threshold           = 90") ||
		!strings.Contains(r.stderr, "changed: "+path) || !strings.Contains(r.stderr, "render terraform --out") {
		t.Fatalf("a hand-edited threshold must fail the check with a diff: %+v", r)
	}
	if r = run(t, "", "render", "terraform", "--out", dir); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	if r = run(t, "", "render", "check", "--dir", dir); r.code != 0 {
		t.Fatalf("rendering again must restore the module: %+v", r)
	}
}

func TestRenderDashboardPrintsTheBody(t *testing.T) {
	r := run(t, "", "render", "dashboard")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	var body struct {
		Widgets []struct {
			Type       string         `json:"type"`
			Properties map[string]any `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &body); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if len(body.Widgets) != 5 || body.Widgets[4].Type != "log" || body.Widgets[4].Properties["region"] != "ap-northeast-1" {
		t.Fatalf("%+v", body)
	}
}

func TestRenderRefusesWhatCloudWatchCannotExpressAndWritesNothing(t *testing.T) {
	// The job's schedule, not the window's of the same name.
	y := strings.Replace(string(spec.DefaultYAML()), "action: vacuum\n    schedule: \"0 4 * * SUN\"", "action: vacuum\n    schedule: \"0 4 1 * SUN\"", 1)
	p := writeFile(t, "dpcops.yaml", y)
	dir := filepath.Join(t.TempDir(), "out")
	r := run(t, "", "-c", p, "render", "terraform", "--out", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "maintenance job weekly-vacuum") || !strings.Contains(r.stderr, p+":") {
		t.Fatalf("%+v", r)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("nothing may be written on a render error: %v", err)
	}
}

func TestRenderUsage(t *testing.T) {
	for _, args := range [][]string{{"render", "terraform"}, {"render", "check"}} {
		if r := run(t, "", args...); r.code != 2 {
			t.Errorf("%v: %+v", args, r)
		}
	}
}

func TestRenderStepFunctions(t *testing.T) {
	r := run(t, "", "render", "stepfunctions", "--next", "PublishMart")
	var def struct {
		StartAt string                    `json:"StartAt"`
		States  map[string]map[string]any `json:"States"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &def) != nil {
		t.Fatalf("%+v", r)
	}
	if def.StartAt != "RaiseCapacity" || def.States["LowerCapacity"]["Next"] != "PublishMart" || def.States["RunDbt"]["Type"] != "Parallel" {
		t.Errorf("%s", r.stdout)
	}
	if r := run(t, "", "render", "stepfunctions", "-c", "../../examples/demo.yaml"); r.code != exitFail || !strings.Contains(r.stderr, "only a Redshift Serverless workgroup") {
		t.Errorf("a PostgreSQL spec: %+v", r)
	}
}
