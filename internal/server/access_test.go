package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
)

func defaultSpec(t *testing.T, env map[string]string) *spec.Spec {
	t.Helper()
	s, diags := spec.Default(spec.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return s
}

// TestTokenMadeOnceAndKeptPrivate: without serve.token, the first start
// makes a token only its owner can read, and later starts reuse it.
func TestTokenMadeOnceAndKeptPrivate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := defaultSpec(t, nil)
	tok, file, err := actionToken(s, dir)
	if err != nil {
		t.Fatal(err)
	}
	if file != filepath.Join(dir, TokenFile) || len(tok) < 40 {
		t.Fatalf("token %d characters in %q", len(tok), file)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, mode %v", err, fi.Mode())
	}
	again, _, err := actionToken(s, dir)
	if err != nil || again != tok {
		t.Errorf("a second start made a new token (%v)", err)
	}
	other, _, _ := actionToken(s, t.TempDir())
	if other == tok {
		t.Error("two stores got the same token")
	}

	// No temporary file is left beside it.
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the data directory holds %d files, want only the token", len(entries))
	}
	// Two first starts at once agree on one token.
	race := t.TempDir()
	tokens := make(chan string, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			tok, _, err := actionToken(s, race)
			if err != nil {
				t.Error(err)
			}
			tokens <- tok
		})
	}
	wg.Wait()
	close(tokens)
	first := <-tokens
	for tok := range tokens {
		if tok != first {
			t.Fatal("concurrent first starts made different tokens")
		}
	}

	// A token others may read is refused, and so is an empty one.
	os.Chmod(file, 0o644)
	if _, _, err := actionToken(s, dir); err == nil || !strings.Contains(err.Error(), "chmod 600") || strings.Contains(err.Error(), tok) {
		t.Errorf("a world-readable token: %v", err)
	}
	os.WriteFile(file, []byte("\n"), 0o600)
	os.Chmod(file, 0o600)
	if _, _, err := actionToken(s, dir); err == nil || !strings.Contains(err.Error(), "no token") {
		t.Errorf("an empty token file: %v", err)
	}

	// The spec's token wins, and no file is made.
	fromSpec := defaultSpec(t, map[string]string{"DPCOPS_TOKEN": "from-the-spec-0123456789"})
	empty := t.TempDir()
	if tok, file, err := actionToken(fromSpec, empty); err != nil || tok != "from-the-spec-0123456789" || file != "" {
		t.Errorf("spec token: %q %q %v", tok, file, err)
	}
	if _, err := os.Stat(filepath.Join(empty, TokenFile)); !os.IsNotExist(err) {
		t.Error("a token file was made beside serve.token")
	}
}

// TestAnnounceAccess: the log says where the token is, never the token,
// and warns when serve listens beyond loopback.
func TestAnnounceAccess(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	announceAccess(logger, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "/data/token")
	if !strings.Contains(buf.String(), "/data/token") || strings.Contains(buf.String(), "level=WARN") {
		t.Errorf("loopback: %s", buf.String())
	}
	for _, ip := range []net.IP{net.IPv4zero, net.IPv6unspecified, net.IPv4(10, 0, 0, 5)} {
		buf.Reset()
		announceAccess(logger, &net.TCPAddr{IP: ip, Port: 8080}, "")
		if !strings.Contains(buf.String(), "level=WARN") || !strings.Contains(buf.String(), "beyond loopback") {
			t.Errorf("%s: %s", ip, buf.String())
		}
	}
}

// TestConnectionLimit: beyond the limit a connection waits until one
// closes, and closing the listener ends a wait.
func TestConnectionLimit(t *testing.T) {
	t.Parallel()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := limitListen(inner, 2)
	defer ln.Close()
	for range 3 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ln.Accept(); err != nil {
		t.Fatal(err)
	}
	third := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			third <- c
		}
		close(third)
	}()
	// The third is waiting in the backlog; it cannot be accepted before a
	// slot frees. (A broken limit would accept it at once.)
	select {
	case <-third:
		t.Fatal("a third connection was accepted beyond the limit of 2")
	case <-time.After(200 * time.Millisecond):
	}
	first.Close()
	first.Close() // a second Close frees no second slot
	c, ok := <-third
	if !ok {
		t.Fatal("the waiting connection was not accepted after a slot freed")
	}
	if len(ln.slots) != 2 {
		t.Errorf("%d slots taken, want 2 (the second and the third)", len(ln.slots))
	}
	c.Close()
	if len(ln.slots) != 1 {
		t.Errorf("%d slots taken after the third closed, want 1", len(ln.slots))
	}
	// Fill the slots again; an Accept waiting for one ends with Close.
	fourth, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer fourth.Close()
	if _, err := ln.Accept(); err != nil {
		t.Fatal(err)
	}
	waiting := make(chan error, 1)
	go func() {
		_, err := ln.Accept()
		waiting <- err
	}()
	ln.Close()
	if err := <-waiting; !errors.Is(err, net.ErrClosed) {
		t.Errorf("an Accept waiting for a slot after Close: %v", err)
	}
}

// TestHTTPServerBoundsClients: every timeout and the header size are
// set, so that a slow client cannot hold a connection for ever.
func TestHTTPServerBoundsClients(t *testing.T) {
	t.Parallel()
	srv := newHTTPServer(nil, slog.New(slog.DiscardHandler))
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 1<<20 {
		t.Errorf("unbounded: %+v", srv)
	}
}

// TestWellMeansWritableAndRunning: serve is well (ready, heartbeat) only
// while its store answers and takes writes and no engine has stopped.
func TestWellMeansWritableAndRunning(t *testing.T) {
	t.Parallel()
	var pingErr, writeErr error
	var r running
	well := wellFunc(func(context.Context) error { return pingErr }, func() error { return writeErr }, &r)
	if err := well(context.Background()); err != nil {
		t.Fatalf("all well: %v", err)
	}
	writeErr = errors.New("the store refuses writes (3 in a row): database or disk is full")
	if err := well(context.Background()); err == nil || !strings.Contains(err.Error(), "disk is full") {
		t.Errorf("disk full: %v", err)
	}
	writeErr = nil
	r.stop("alarm engine", errors.New("persist: boom"))
	r.stop("collector", errors.New("returned"))
	if err := well(context.Background()); err == nil || err.Error() != "engines stopped: alarm engine (persist: boom), collector (returned)" {
		t.Errorf("engines stopped: %v", err)
	}
	// A running engine that makes no progress is stuck.
	var stuck running
	stuckWell := wellFunc(func(context.Context) error { return nil }, func() error { return nil }, &stuck)
	lastRound := time.Now()
	stuck.watch(progress{name: "alarm engine", last: func() time.Time { return lastRound }, within: time.Minute})
	if err := stuckWell(context.Background()); err != nil {
		t.Errorf("an engine that progresses: %v", err)
	}
	stuck.watched[0].since = time.Now().Add(-time.Hour)
	lastRound = time.Now().Add(-10 * time.Minute)
	if err := stuckWell(context.Background()); err == nil || !strings.Contains(err.Error(), "alarm engine has made no progress for 10m0s") {
		t.Errorf("a stuck engine: %v", err)
	}
	lastRound = time.Time{} // never a good round since it started an hour ago
	if err := stuckWell(context.Background()); err == nil || !strings.Contains(err.Error(), "no progress for 1h") {
		t.Errorf("an engine with no good round: %v", err)
	}
	pingErr = errors.New("database is closed")
	if err := well(context.Background()); err == nil || !strings.HasPrefix(err.Error(), "store: database is closed") {
		t.Errorf("store gone: %v", err)
	}
}

// TestAnEngineThatDiesStepsDown: on a shared store an engine that stops
// before serve does makes serve stop (handing the lease over), with the
// engine named; an engine that ends with serve does not.
func TestAnEngineThatDiesStepsDown(t *testing.T) {
	t.Parallel()
	lost := make(chan error, 1)
	e := &engines{logger: slog.New(slog.DiscardHandler), died: stepDown(lost)}
	ctx, cancel := context.WithCancel(context.Background())
	e.logged(ctx, "alarm engine", func(context.Context) error { return errors.New("persist: boom") })()
	select {
	case err := <-lost:
		if !strings.Contains(err.Error(), "alarm engine stopped (persist: boom): stepping down") {
			t.Errorf("step-down: %v", err)
		}
	default:
		t.Fatal("a dead engine did not make serve step down")
	}
	if e.running.err() == nil {
		t.Error("the dead engine is not reported by readiness")
	}
	// Two dying at once: the second finds serve stopping already.
	e.logged(ctx, "collector", func(context.Context) error { return nil })()
	e.logged(ctx, "capacity lease", func(context.Context) error { return nil })()
	<-lost
	cancel()
	e.logged(ctx, "notification worker", func(ctx context.Context) error { <-ctx.Done(); return nil })()
	select {
	case err := <-lost:
		t.Errorf("an engine that ended with serve stepped down: %v", err)
	default:
	}
}
