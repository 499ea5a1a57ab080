package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
)

// runWithStore runs dpcops with DPCOPS_STORE_DSN set.
func runWithStore(ctx context.Context, t *testing.T, storeDSN string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := mainWithEnv(ctx, args, IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, "v-test",
		func(k string) (string, bool) { return storeDSN, k == "DPCOPS_STORE_DSN" })
	return result{code, out.String(), errb.String()}
}

// TestServeOnAPostgresStore: serve keeps its state in PostgreSQL (the
// spec's store.dsn, or --store) and leads; a second serve on the same
// database follows; collect --once --data is refused on it; the other
// commands read the same store.
func TestServeOnAPostgresStore(t *testing.T) {
	dsn := pgtest.DB(t)
	specFile := writeFile(t, "pg-store.yaml", strings.Replace(readFile(t, localSpec), "\nserve:", "\nstore:\n  dsn: ${DPCOPS_STORE_DSN}\nserve:", 1))
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() {
		done <- runWithStore(ctx, t, dsn, "serve", "--listen", addr, "--data", t.TempDir(), "-c", specFile)
	}()
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
	waitUntil(t, 30*time.Second, "serve leads", func() bool { l, _ := replicaStatus(addr); return l })
	// A second serve on the same store (another --data and port, the
	// store given by --store) follows: it answers, and says who leads.
	addr2 := freeAddr(t)
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan result, 1)
	go func() {
		done2 <- runWithStore(ctx2, t, "", "serve", "--listen", addr2, "--data", t.TempDir(), "--store", dsn, "-c", localSpec)
	}()
	if up := <-serving(t, addr2); !up {
		cancel2()
		t.Fatalf("a second serve did not come up: %+v", <-done2)
	}
	// Its first election attempt may still be under way as it starts
	// answering: it knows the leader within a poll.
	waitUntil(t, 30*time.Second, "the second serve knows the leader", func() bool { _, leader := replicaStatus(addr2); return leader != "" })
	if leading, leader := replicaStatus(addr2); leading || !strings.HasPrefix(leader, fmt.Sprintf("%s:%d/", hostname(), os.Getpid())) {
		t.Errorf("the second serve: leading %v, leader %q", leading, leader)
	}
	// collect --once would collect beside the leader: refused.
	if r := runWithStore(context.Background(), t, dsn, "collect", "--once", "--data", t.TempDir(), "-c", specFile); r.code != 1 || !strings.Contains(r.stderr, "does not write to a PostgreSQL store") {
		t.Errorf("collect --once --data on a PostgreSQL store: %+v", r)
	}
	cancel2()
	if r := <-done2; r.code != 0 {
		t.Errorf("the follower after cancel: %+v", r)
	}
	// The commands read the store serve writes.
	if r := runWithStore(context.Background(), t, dsn, "incidents", "list", "-c", specFile); r.code != 0 {
		t.Errorf("incidents list beside serve: %+v", r)
	}
	if r := runWithStore(context.Background(), t, dsn, "notify", "list", "-c", specFile); r.code != 0 {
		t.Errorf("notify list beside serve: %+v", r)
	}
	cancel()
	if r := <-done; r.code != 0 {
		t.Fatalf("serve after cancel: %+v", r)
	}
	// Stopped, the store is free again.
	ctx, cancel = context.WithCancel(context.Background())
	go func() {
		done <- runWithStore(ctx, t, dsn, "serve", "--listen", addr, "--data", t.TempDir(), "-c", specFile)
	}()
	if up := <-serving(t, addr); !up {
		cancel()
		t.Fatalf("serve did not come up again: %+v", <-done)
	}
	cancel()
	if r := <-done; r.code != 0 {
		t.Errorf("second serve after cancel: %+v", r)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
