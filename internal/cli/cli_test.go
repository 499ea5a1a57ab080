package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
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

	"github.com/dpc-learning/dpcops/examples"
	"github.com/dpc-learning/dpcops/internal/lease"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/spec"
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
	os.WriteFile(filepath.Join(dir, "dpcops.yaml"), []byte("platform: from-cwd\nwarehouse: {engine: postgres, dsn: \"postgres://h/db\"}\n"), 0o600)
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

// post sends an action with a bearer token (none when empty).
func post(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
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
	// Before serve starts: a datapoint past collect.retention (15d), and a
	// capacity lease that expired while dpcops was down.
	old := time.Now().Add(-30 * 24 * time.Hour)
	seedStore(t, data, old)
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
	// Actions need the token serve made in --data, on loopback too.
	token, err := os.ReadFile(filepath.Join(data, "token"))
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := post(t, base+"/api/v1/pipeline/rerun", ""); code != 401 {
		t.Errorf("an action without the token on loopback: %d", code)
	}
	if code, body := post(t, base+"/api/v1/deliveries/424242/retry", strings.TrimSpace(string(token))); code != 404 {
		t.Errorf("an action with the token from --data: %d %s", code, body)
	}
	code, body := get(t, base+"/metrics")
	if code != 200 || !strings.Contains(body, `dpcops_build_info{goversion="go`) || !strings.Contains(body, `version="v-test"`) {
		t.Errorf("/metrics: %d\n%s", code, body)
	}
	// At start-up serve prunes past the retention and lowers the expired
	// lease; wait for both (they run beside the HTTP server).
	for !startedUp(t, data, old) {
		if time.Now().After(deadline) {
			t.Fatal("serve did not prune the old datapoint and close the expired lease at start-up")
		}
		time.Sleep(20 * time.Millisecond)
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

// seedStore writes an old datapoint and opens a lease that expired an
// hour ago into a new store in data.
func seedStore(t *testing.T, data string, old time.Time) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.InsertDatapoints(ctx, []store.Datapoint{{Metric: "ELTExecutionDelay", Dims: "Environment=local", Time: old, Value: 5}}); err != nil {
		t.Fatal(err)
	}
	s, diags := spec.Parse("local.yaml", examples.LocalPostgres, spec.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	m, err := lease.New(lease.Options{Spec: s, Store: st, Now: func() time.Time { return time.Now().Add(-5 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.Raise(ctx, lease.Request{Pipeline: "dpc-elt", Who: "test"}); err != nil {
		t.Fatal(err)
	}
}

// startedUp reports whether the old datapoint is gone and the lease closed.
func startedUp(t *testing.T, data string, old time.Time) bool {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, data, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pts, err := st.Points(ctx, "ELTExecutionDelay", "Environment=local", old.Add(-time.Minute), old.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ls, err := lease.List(ctx, st, old, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return len(pts) == 0 && len(ls) == 1 && !ls[0].Open() && strings.HasPrefix(ls[0].CloseReason, "expired at")
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

	shared := t.TempDir()
	os.WriteFile(filepath.Join(shared, "token"), []byte("a-token-others-can-read-0123456789\n"), 0o644)
	r = run(t, "", "serve", "--listen", freeAddr(t), "--data", shared, "-c", "../../examples/local-postgres.yaml")
	if r.code != 1 || !strings.Contains(r.stderr, "chmod 600") || strings.Contains(r.stderr, "a-token-others") {
		t.Errorf("a token file others can read: %+v", r)
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

func TestMain(m *testing.M) { pgtest.Run(m) }

// TestWarehouseInitAndCollectOnce is the command-line path of issue 3:
// init the ops schema (twice), record a load error, collect one cycle.
func TestWarehouseInitAndCollectOnce(t *testing.T) {
	dsn := pgtest.DB(t)
	ctx := context.Background()
	env := func(k string) (string, bool) {
		if k == "DPCOPS_WAREHOUSE_DSN" {
			return dsn, true
		}
		return "", false
	}
	runEnv := func(args ...string) result {
		var out, errb bytes.Buffer
		code := mainWithEnv(ctx, args, IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, "v-test", env)
		return result{code, out.String(), errb.String()}
	}
	for i := 0; i < 2; i++ {
		if r := runEnv("warehouse", "init", "-c", "../../examples/local-postgres.yaml"); r.code != 0 || r.stdout != "ops schema ready (postgres)\n" {
			t.Fatalf("init #%d: %+v", i+1, r)
		}
	}
	conn := pgtest.Connect(t, dsn)
	if _, err := conn.Exec(ctx, `INSERT INTO ops.load_errors (file_name, error_code, error_message) VALUES ('s3://x/a.csv', 1207, 'bad')`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO ops.pipeline_runs (pipeline, started_at, finished_at, status) VALUES ('dpc-elt', now() - interval '1 hour', now() - interval '30 minutes', 'succeeded')`); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	r := runEnv("collect", "--once", "--data", data, "-c", "../../examples/local-postgres.yaml")
	if r.code != 0 {
		t.Fatalf("collect: %+v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var sawDelay bool
	for _, l := range lines {
		var rd struct {
			Time       time.Time         `json:"time"`
			Metric     string            `json:"metric"`
			Dimensions map[string]string `json:"dimensions"`
			Value      float64           `json:"value"`
			Unit       string            `json:"unit"`
		}
		if err := json.Unmarshal([]byte(l), &rd); err != nil || rd.Metric == "" || rd.Time.IsZero() {
			t.Fatalf("line %q: %v", l, err)
		}
		if rd.Metric == "ELTExecutionDelay" {
			sawDelay = rd.Value > 29 && rd.Value < 31 && rd.Dimensions["Environment"] == "local" && rd.Unit == "None"
		}
	}
	if !sawDelay {
		t.Errorf("no ELTExecutionDelay of 30 minutes in:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "skipped QueriesFailed: first reading") {
		t.Errorf("stderr should list the skipped counters:\n%s", r.stderr)
	}
	// The second run has the first's baselines in --data.
	r = runEnv("collect", "--once", "--data", data, "-c", "../../examples/local-postgres.yaml")
	if r.code != 0 || !strings.Contains(r.stdout, `"metric":"QueriesFailed"`) {
		t.Errorf("second collect: %+v", r)
	}
	if r := runEnv("collect", "-c", "../../examples/local-postgres.yaml"); r.code != 2 {
		t.Errorf("collect without --once: %+v", r)
	}
}

func TestCollectOnceWithTheWarehouseDown(t *testing.T) {
	env := func(k string) (string, bool) {
		if k == "DPCOPS_WAREHOUSE_DSN" {
			return "postgres://nobody:pw-not-shown@127.0.0.1:1/dpc?sslmode=disable&connect_timeout=2", true
		}
		return "", false
	}
	var out, errb bytes.Buffer
	code := mainWithEnv(context.Background(), []string{"collect", "--once", "-c", "../../examples/local-postgres.yaml"},
		IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, "v-test", env)
	if code != 1 || out.Len() != 0 || !strings.Contains(errb.String(), "warehouse unreachable") || strings.Contains(errb.String(), "pw-not-shown") {
		t.Fatalf("code %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}

func TestTriageIncidentsAndRecoverCommands(t *testing.T) {
	dsn := pgtest.DB(t)
	ctx := context.Background()
	env := func(k string) (string, bool) {
		if k == "DPCOPS_WAREHOUSE_DSN" {
			return dsn, true
		}
		return "", false
	}
	runEnv := func(stdin string, args ...string) result {
		var out, errb bytes.Buffer
		code := mainWithEnv(ctx, args, IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}, "v-test", env)
		return result{code, out.String(), errb.String()}
	}
	spec := "../../examples/local-postgres.yaml"
	data := t.TempDir()
	if r := runEnv("", "warehouse", "init", "-c", spec); r.code != 0 {
		t.Fatal(r)
	}
	conn := pgtest.Connect(t, dsn)
	conn.Exec(ctx, `INSERT INTO ops.load_errors (file_name, line_number, error_code, error_message) VALUES ('s3://x/ef.csv', 9, 1207, 'Invalid digit')`)

	r := runEnv("", "triage", "--format", "json", "--data", data, "-c", spec)
	if r.code != 0 {
		t.Fatalf("triage: %+v", r)
	}
	var report struct {
		Findings []struct{ Title, Next string }
		Problems []string
	}
	if err := json.Unmarshal([]byte(r.stdout), &report); err != nil {
		t.Fatal(err)
	}
	if len(report.Findings) == 0 || report.Findings[0].Title != "1 rows of s3://x/ef.csv rejected" ||
		!strings.Contains(report.Findings[0].Next, "dpcops recover rerun-pipeline") {
		t.Errorf("findings %+v problems %v", report.Findings, report.Problems)
	}
	if r := runEnv("", "triage", "--data", data, "-c", spec); r.code != 0 || !strings.HasPrefix(r.stdout, "# Triage: dpc-learning (local)") {
		t.Errorf("markdown triage: %+v", r)
	}
	if r := runEnv("", "triage", "--format", "xml", "--data", data, "-c", spec); r.code != 2 {
		t.Errorf("bad format: %+v", r)
	}

	// No incidents yet; unknown ids are clear errors.
	if r := runEnv("", "incidents", "list", "--data", data, "-c", spec); r.code != 0 || r.stdout != "" {
		t.Errorf("list: %+v", r)
	}
	if r := runEnv("", "incidents", "note", "7", "hello", "--data", data, "-c", spec); r.code != 1 || !strings.Contains(r.stderr, "no such incident: 7") {
		t.Errorf("note on an unknown incident: %+v", r)
	}
	if r := runEnv("", "incidents", "show", "x", "--data", data, "-c", spec); r.code != 2 {
		t.Errorf("bad id: %+v", r)
	}

	// Re-running needs confirmation, and pipeline.rerun; the local example
	// keeps it off.
	if r := runEnv("n\n", "recover", "rerun-pipeline", "--data", data, "-c", spec); r.code != 1 || !strings.Contains(r.stderr, "not confirmed; nothing was done") {
		t.Errorf("unconfirmed rerun: %+v", r)
	}
	if r := runEnv("", "recover", "rerun-pipeline", "--yes", "--data", data, "-c", spec); r.code != 1 || !strings.Contains(r.stderr, "pipeline.rerun is false") {
		t.Errorf("rerun without permission: %+v", r)
	}
	if r := runEnv("", "recover", "offload-plan", "--data", data, "-c", spec); r.code != 1 || !strings.Contains(r.stderr, "no equivalent") {
		t.Errorf("offload plan on postgres: %+v", r)
	}
}

// TestReadingCommandsDoNotCreateAStore: a mistyped --data is an error for
// the commands that only read, and leaves no new store behind.
func TestReadingCommandsDoNotCreateAStore(t *testing.T) {
	for _, args := range [][]string{{"incidents", "list"}, {"incidents", "show", "1"}, {"maintenance", "runs"}, {"notify", "list"}, {"capacity", "leases"}} {
		data := filepath.Join(t.TempDir(), "typo")
		r := run(t, "", append(args, "--data", data, "-c", "../../examples/local-postgres.yaml")...)
		if r.code != exitFail || !strings.Contains(r.stderr, "no such file") {
			t.Errorf("%v: %+v", args, r)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Errorf("%v created %s", args, data)
		}
	}
}

func TestDemoRefusesASpecItCannotRun(t *testing.T) {
	r := run(t, "", "demo", "-c", "../../examples/dpc-learning.yaml")
	if r.code != exitUsage || !strings.Contains(r.stderr, "warehouse.engine: postgres") || strings.Contains(r.stderr, "starting a throwaway") {
		t.Errorf("%+v", r)
	}
}

func TestIsUsage(t *testing.T) {
	for msg, want := range map[string]bool{
		`invalid argument "5x" for "--for" flag: time: unknown unit "x"`: true,
		"unknown flag: --nope":                               true,
		`accepts 1 arg(s), received 2`:                       true,
		"write modules/operations/main.tf: invalid argument": false,
		"open store: unknown command in journal":             false,
	} {
		if got := isUsage(errors.New(msg)); got != want {
			t.Errorf("isUsage(%q) = %v", msg, got)
		}
	}
}
