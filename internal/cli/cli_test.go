package cli

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpc-learning/dpcops/internal/store"
)

type result struct {
	code           int
	stdout, stderr string
}

// run runs dpcops with args in an environment without variables.
func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runCtx(context.Background(), t, stdin, args...)
}

func runCtx(ctx context.Context, t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := mainWithEnv(ctx, args, IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}, "v-test",
		func(string) (string, bool) { return "", false })
	return result{code, out.String(), errb.String()}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVersion(t *testing.T) {
	r := run(t, "", "--version")
	if r.code != 0 || r.stdout != "dpcops v-test\n" {
		t.Fatalf("%+v", r)
	}
}

func TestHelpOnEveryCommand(t *testing.T) {
	a := &app{}
	var walk func(*cobra.Command, []string)
	walk = func(c *cobra.Command, path []string) {
		args := append(append([]string{}, path...), "--help")
		r := run(t, "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") || c.Short == "" {
			t.Errorf("%v: code %d, short %q, output %q", args, r.code, c.Short, r.stdout)
		}
		for _, sub := range c.Commands() {
			if sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			walk(sub, append(path, sub.Name()))
		}
	}
	walk(a.rootCommand(), nil)
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"no-such-command"},
		{"validate", "--no-such-flag"},
		{"validate", "extra-arg"},
		{"--log-level", "loud", "validate"},
		{"--log-format", "xml", "validate"},
	} {
		r := run(t, "", args...)
		if r.code != 2 || !strings.HasPrefix(r.stderr, "dpcops: ") {
			t.Errorf("%v: want exit 2 and a one-line error, got %+v", args, r)
		}
	}
}

func TestValidateBuiltInAndExamples(t *testing.T) {
	for _, args := range [][]string{
		{"validate"},
		{"validate", "-c", "../../examples/dpc-learning.yaml"},
		{"validate", "-c", "../../examples/local-postgres.yaml"},
		// Global flags work after the subcommand too.
		{"validate", "--config", "../../examples/local-postgres.yaml", "--log-level", "debug"},
		{"--log-format", "json", "validate", "-c", "../../examples/dpc-learning.yaml"},
	} {
		r := run(t, "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, ": ok: ") || r.stderr != "" {
			t.Errorf("%v: %+v", args, r)
		}
	}
}

func TestSpecDefaultValidatesUnchanged(t *testing.T) {
	out := run(t, "", "spec", "default")
	if out.code != 0 || !strings.HasPrefix(out.stdout, "# dpcops spec") {
		t.Fatalf("%+v", out)
	}
	r := run(t, out.stdout, "validate", "-c", "-")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("spec default | validate -c -: %+v", r)
	}
}

func TestValidateReportsErrorsWithPositions(t *testing.T) {
	p := writeFile(t, "bad.yaml", "platform: p\nwarehouse: {engine: postgres, dsn: x}\nalarms:\n  - name: a\n    metric: Nope\n    comparison: GreaterThanThreshold\n    threshold: 1\n    period: 45s\n")
	r := run(t, "", "validate", "-c", p)
	if r.code != 1 {
		t.Fatalf("want exit 1, got %+v", r)
	}
	for _, want := range []string{
		p + ":5:13: error: alarm a names metric \"Nope\", which is not defined in metrics\n",
		p + ":8:13: error: period must be 10s, 20s, 30s or a multiple of 60s, got 45s\n",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("want %q in stderr:\n%s", want, r.stderr)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if !strings.HasPrefix(line, p+":") {
			t.Errorf("every line must start with FILE:LINE:COL, got %q", line)
		}
	}
}

func TestValidateWarningsDoNotFail(t *testing.T) {
	r := run(t, "", "validate", "-c", "../spec/testdata/seed-mistakes.yaml")
	if r.code != 0 || !strings.Contains(r.stderr, ": warning: AWS does not publish a metric named RPUConsumption") {
		t.Fatalf("%+v", r)
	}
}

func TestConfigFileErrors(t *testing.T) {
	r := run(t, "", "validate", "-c", "/nonexistent/dpcops.yaml")
	if r.code != 1 || !strings.Contains(r.stderr, "read spec: open /nonexistent/dpcops.yaml: no such file or directory") {
		t.Fatalf("%+v", r)
	}
}

func TestDefaultConfigFileInWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "dpcops.yaml"), []byte("platform: from-cwd\nwarehouse: {engine: postgres, dsn: x}\n"), 0o600)
	t.Chdir(dir)
	r := run(t, "", "validate")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "dpcops.yaml: ok") {
		t.Fatalf("%+v", r)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeProbesMetricsAndShutdown(t *testing.T) {
	addr, data := freeAddr(t), filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() {
		done <- runCtx(ctx, t, "", "serve", "--listen", addr, "--data", data, "-c", "../../examples/local-postgres.yaml")
	}()
	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		if code, _ := get(t, base+"/healthz"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not come up: %+v", <-done)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, body := get(t, base+"/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	code, body := get(t, base+"/metrics")
	if code != 200 || !strings.Contains(body, `dpcops_build_info{goversion="go`) || !strings.Contains(body, `version="v-test"`) {
		t.Errorf("/metrics: %d\n%s", code, body)
	}
	cancel()
	r := <-done
	if r.code != 0 {
		t.Fatalf("serve after cancel: %+v", r)
	}
	// The store was closed cleanly and opens again.
	s, err := store.Open(context.Background(), data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func TestServeStartErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	data := filepath.Join(t.TempDir(), "data")
	r := run(t, "", "serve", "--listen", busy.Addr().String(), "--data", data, "-c", "../../examples/local-postgres.yaml")
	if r.code != 1 || !strings.Contains(r.stderr, "address already in use") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("port in use: %+v", r)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Error("a failed start left a data directory behind")
	}

	file := writeFile(t, "plain", "x")
	r = run(t, "", "serve", "--listen", freeAddr(t), "--data", filepath.Join(file, "data"), "-c", "../../examples/local-postgres.yaml")
	if r.code != 1 || !strings.Contains(r.stderr, "not a directory") {
		t.Errorf("data dir under a file: %+v", r)
	}

	newer := t.TempDir()
	s, err := store.Open(context.Background(), newer, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	bumpSchema(t, filepath.Join(newer, store.FileName))
	r = run(t, "", "serve", "--listen", freeAddr(t), "--data", newer, "-c", "../../examples/local-postgres.yaml")
	if r.code != 1 || !strings.Contains(r.stderr, "newer than this dpcops") {
		t.Errorf("newer store: %+v", r)
	}

	bad := writeFile(t, "bad.yaml", "platform: [\n")
	r = run(t, "", "serve", "--listen", freeAddr(t), "--data", t.TempDir(), "-c", bad)
	if r.code != 1 || !strings.Contains(r.stderr, bad+":") {
		t.Errorf("bad spec: %+v", r)
	}
}

// bumpSchema makes a store look as if a newer dpcops wrote it.
func bumpSchema(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", store.SchemaVersion()+1)); err != nil {
		t.Fatal(err)
	}
}
