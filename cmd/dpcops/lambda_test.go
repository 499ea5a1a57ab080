package main

import (
	"archive/zip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend/aws/awstest"
	"github.com/dpc-learning/dpcops/internal/publisher"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// runtimeAPI is a local Lambda Runtime API: it hands out one invocation
// and records the function's response.
type runtimeAPI struct {
	*httptest.Server
	served   chan struct{}
	response chan []byte
}

func newRuntimeAPI(t *testing.T) *runtimeAPI {
	r := &runtimeAPI{served: make(chan struct{}, 1), response: make(chan []byte, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, req *http.Request) {
		select {
		case r.served <- struct{}{}:
		default:
			// One invocation only: the next waits until the test stops
			// the function, as an idle Lambda would.
			<-req.Context().Done()
			return
		}
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", "req-1")
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strings.TrimSpace(jsonNum(time.Now().Add(time.Minute).UnixMilli())))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:ap-northeast-1:000000000000:function:dpc-learning-dpcops-publisher")
		w.Write([]byte(`{"version":"0","detail-type":"Scheduled Event"}`))
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.response <- b
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.response <- append([]byte("error: "), b...)
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.response <- append([]byte("init error: "), b...)
		w.WriteHeader(http.StatusAccepted)
	})
	r.Server = httptest.NewServer(mux)
	t.Cleanup(r.Close)
	return r
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestBootstrapServesLambdaInvocations packages this binary with render
// lambda, unpacks the zip as Lambda does, and runs bootstrap with no
// arguments under a local Runtime API: it finds its spec beside itself,
// serves the invocation with one publisher cycle, and beats the heartbeat.
// The workgroup is idle, so no SQL is sent.
func TestBootstrapServesLambdaInvocations(t *testing.T) {
	fake := awstest.New()
	t.Cleanup(fake.Close)
	eps := "  endpoints: {cloudwatch: " + fake.URL + ", stepfunctions: " + fake.URL + ", logs: " + fake.URL + ", redshift_data: " + fake.URL + "}\n"
	y := strings.Replace(string(spec.DefaultYAML()), "  account_id: \"000000000000\"\n", "  account_id: \"000000000000\"\n"+eps, 1)
	dir := t.TempDir()
	specPath := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(specPath, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(dir, "publisher.zip")
	if out, err := exec.Command(binary, "render", "lambda", "-c", specPath, "--out", zipPath).CombinedOutput(); err != nil {
		t.Fatalf("render lambda: %v\n%s", err, out)
	}
	task := filepath.Join(dir, "task")
	unzip(t, zipPath, task)

	api := newRuntimeAPI(t)
	cmd := exec.Command(filepath.Join(task, "bootstrap"))
	cmd.Dir = task
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(api.URL, "http://"), "AWS_REGION=ap-northeast-1",
		"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=test-secret", "AWS_LAMBDA_FUNCTION_NAME=dpc-learning-dpcops-publisher",
		"HOME=" + dir}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The log is read once the process is gone and its output copied.
	stopped := false
	stop := func() string {
		if !stopped {
			cmd.Process.Kill()
			cmd.Wait()
			stopped = true
		}
		return stderr.String()
	}
	defer stop()
	var resp []byte
	select {
	case resp = <-api.response:
	case <-time.After(2 * time.Minute):
		t.Fatalf("no response from the function; its log:\n%s", stop())
	}
	var sum publisher.Summary
	if err := json.Unmarshal(resp, &sum); err != nil || sum.Time.IsZero() {
		t.Fatalf("response %q: %v\nlog:\n%s", resp, err, stop())
	}
	if sum.Statements != 0 {
		t.Errorf("an idle workgroup got %d statements", sum.Statements)
	}
	beats := 0
	for _, d := range fake.Put() {
		if d.MetricName == publisher.HeartbeatMetric {
			beats++
		}
	}
	log := stop()
	if beats != 1 {
		t.Errorf("%d heartbeats; log:\n%s", beats, log)
	}
	if !strings.Contains(log, `"msg":"published"`) {
		t.Errorf("the function logs JSON lines to its log group:\n%s", log)
	}
}

func unzip(t *testing.T, path, dir string) {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.OpenFile(filepath.Join(dir, f.Name), os.O_CREATE|os.O_WRONLY, f.Mode())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, rc); err != nil {
			t.Fatal(err)
		}
		out.Close()
		rc.Close()
	}
}
