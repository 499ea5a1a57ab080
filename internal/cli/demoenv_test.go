package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSpecAndDataFromTheEnvironment: without -c and --data, commands
// read DPCOPS_CONFIG and DPCOPS_DATA; the flags still win.
func TestSpecAndDataFromTheEnvironment(t *testing.T) {
	specFile := writeFile(t, "env.yaml", "platform: from-env\nwarehouse: {engine: postgres, dsn: \"postgres://h/db\"}\n")
	data := filepath.Join(t.TempDir(), "state-from-env")
	env := map[string]string{EnvConfig: specFile, EnvData: data}
	runEnv := func(args ...string) result {
		var out, errb bytes.Buffer
		code := mainWithEnv(context.Background(), args, IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, "v-test",
			func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		return result{code, out.String(), errb.String()}
	}
	if r := runEnv("validate"); r.code != 0 || !strings.HasPrefix(r.stdout, specFile+": ok") {
		t.Errorf("validate with DPCOPS_CONFIG: %+v", r)
	}
	if r := runEnv("validate", "-c", "../../examples/dpc-learning.yaml"); !strings.HasPrefix(r.stdout, "../../examples/dpc-learning.yaml: ok") {
		t.Errorf("-c beside DPCOPS_CONFIG: %+v", r)
	}
	if r := runEnv("incidents", "list"); r.code == 0 || !strings.Contains(r.stderr, data) {
		t.Errorf("incidents list with DPCOPS_DATA (no store there yet): %+v", r)
	}
}

// TestDemoEnvFilePointsTheCLIAtTheDemo: the file the demo writes, sourced
// by a shell, gives a command the demo's spec (which validates with the
// warehouse variables it sets), its state directory and its URL, with
// values quoted for the shell.
func TestDemoEnvFilePointsTheCLIAtTheDemo(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "demo data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, demoEnvFile)
	dsn := "postgres://dpcops-demo@127.0.0.1:5544/dpc?application_name=it's"
	if err := writeDemoEnv(file, "", data, dsn, "/tmp/pg.log", "127.0.0.1:8080"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("env file: %v %v", fi, err)
	}
	env, err := sourced(file)
	if err != nil {
		t.Fatal(err)
	}
	if env["DPCOPS_WAREHOUSE_DSN"] != dsn || env[EnvData] != data || env["DPCOPS_URL"] != "http://127.0.0.1:8080" ||
		env[EnvConfig] != filepath.Join(data, "demo.yaml") {
		t.Fatalf("sourced environment: %v", env)
	}
	var stdout, stderr bytes.Buffer
	code := mainWithEnv(context.Background(), []string{"validate"}, IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr}, "v-test",
		func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if code != 0 || !strings.HasPrefix(stdout.String(), env[EnvConfig]+": ok") {
		t.Errorf("validate in the sourced environment: %d %s %s", code, stdout.String(), stderr.String())
	}
}

// TestDemoIgnoresALocalSpec: a ./dpcops.yaml left from the tour (`spec
// default > dpcops.yaml`) or a DPCOPS_CONFIG is not the demo's spec; only
// -c chooses another.
func TestDemoIgnoresALocalSpec(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.WriteFile(DefaultConfig, []byte("platform: prod\nwarehouse: {engine: postgres, dsn: \"postgres://prod.example.org/dpc\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	a := &app{io: IO{Stderr: &stderr}, lookupEnv: func(k string) (string, bool) {
		if k == EnvConfig {
			return DefaultConfig, true
		}
		return "", false
	}}
	s, err := a.demoSpec(demoDSNCheck, "")
	if err != nil || s.File() != "examples/demo.yaml" {
		t.Fatalf("the demo's spec beside ./dpcops.yaml: %v, %v", s, err)
	}
	a.config = DefaultConfig
	if _, err := a.demoSpec(demoDSNCheck, ""); err == nil || !strings.Contains(err.Error(), "the demo runs on its own PostgreSQL") {
		t.Errorf("-c names a spec the demo cannot run: %v", err)
	}
}

// sourced is the environment a POSIX shell has after sourcing file.
func sourced(file string) (map[string]string, error) {
	// A POSIX shell's "." looks for a bare name on PATH.
	file, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	out, err := exec.Command("sh", "-c", `. "$1" && env`, "sh", file).Output()
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	return env, nil
}
