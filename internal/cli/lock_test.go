package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const localSpec = "../../examples/local-postgres.yaml"

// startServe runs serve in this process until the test stops it with the
// function returned, which returns serve's result.
func startServe(t *testing.T, addr, data string) func() result {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- runCtx(ctx, t, "", "serve", "--listen", addr, "--data", data, "-c", localSpec) }()
	select {
	case r := <-done:
		cancel()
		t.Fatalf("serve did not come up: %+v", r)
	case up := <-serving(t, addr):
		if !up {
			cancel()
			t.Fatalf("serve did not come up: %+v", <-done)
		}
	}
	return func() result {
		cancel()
		return <-done
	}
}

// serving sends true once addr answers /healthz, false if it does not
// within 20 s.
func serving(t *testing.T, addr string) <-chan bool {
	t.Helper()
	up := make(chan bool, 1)
	go func() {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if code, _ := get(t, "http://"+addr+"/healthz"); code == 200 {
				up <- true
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		up <- false
	}()
	return up
}

// refused runs a command that should be refused at once; if it is not
// (a serve that starts), it is stopped after 20 s so that the test fails
// rather than hangs.
func refused(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return runCtx(ctx, t, "", args...)
}

func inUseBy(pid int) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("dpcops: store in use by PID %d on %s", pid, host)
}

// TestOneServePerStore: a second serve on the same --data exits 1 naming
// the first's PID and host, whether it asks for another port or the same
// one; so does collect --once with that --data. The other commands read
// and write beside it, and once it stops a new serve starts.
func TestOneServePerStore(t *testing.T) {
	addr, data := freeAddr(t), filepath.Join(t.TempDir(), "data")
	stop := startServe(t, addr, data)
	want := inUseBy(os.Getpid())
	for _, args := range [][]string{
		{"serve", "--listen", freeAddr(t), "--data", data, "-c", localSpec},
		{"serve", "--listen", addr, "--data", data, "-c", localSpec},
		{"collect", "--once", "--data", data, "-c", localSpec},
	} {
		r := refused(t, args...)
		if r.code != 1 || !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v beside a serve: want exit 1 and %q, got %+v", args[:2], want, r)
		}
	}
	for _, args := range [][]string{
		{"incidents", "list", "--data", data, "-c", localSpec},
		{"notify", "list", "--data", data},
		{"maintenance", "runs", "--data", data, "-c", localSpec},
	} {
		if r := run(t, "", args...); r.code != 0 {
			t.Errorf("%v beside a serve: %+v", args[:2], r)
		}
	}
	// A write beside serve gets as far as its own answer.
	if r := run(t, "", "notify", "retry", "424242", "--data", data); r.code != 1 || !strings.Contains(r.stderr, "no such delivery") {
		t.Errorf("notify retry beside a serve: %+v", r)
	}
	if r := stop(); r.code != 0 {
		t.Fatalf("first serve: %+v", r)
	}
	if r := startServe(t, freeAddr(t), data)(); r.code != 0 {
		t.Fatalf("a serve after the first stopped: %+v", r)
	}
}

// TestServeKilledReleasesTheStore kills a serve (a child process running
// this test binary) with SIGKILL: it had no chance to clean up, yet the
// kernel released its lock and a new serve starts on its --data.
func TestServeKilledReleasesTheStore(t *testing.T) {
	if dir := os.Getenv("DPCOPS_CLI_SERVE_CHILD"); dir != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		r := runCtx(ctx, t, "", "serve", "--listen", os.Getenv("DPCOPS_CLI_SERVE_ADDR"), "--data", dir, "-c", localSpec)
		fmt.Fprint(os.Stderr, r.stderr)
		os.Exit(r.code)
	}
	addr, data := freeAddr(t), filepath.Join(t.TempDir(), "data")
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeKilledReleasesTheStore$")
	cmd.Env = append(os.Environ(), "DPCOPS_CLI_SERVE_CHILD="+data, "DPCOPS_CLI_SERVE_ADDR="+addr)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer cmd.Process.Kill()
	select {
	case err := <-exited:
		t.Fatalf("the child serve exited: %v", err)
	case up := <-serving(t, addr):
		if !up {
			t.Fatal("the child serve did not come up")
		}
	}
	r := refused(t, "serve", "--listen", freeAddr(t), "--data", data, "-c", localSpec)
	if want := inUseBy(cmd.Process.Pid); r.code != 1 || !strings.HasPrefix(r.stderr, want) {
		t.Fatalf("beside the child serve: want exit 1 and %q, got %+v", want, r)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	if r := startServe(t, freeAddr(t), data)(); r.code != 0 {
		t.Fatalf("a serve after the holder was killed: %+v", r)
	}
}
