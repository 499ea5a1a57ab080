// Package pgtest gives tests a real PostgreSQL database: one throwaway
// cluster per test binary, one fresh database per test.
//
// A package that uses it runs its tests through Run, so that the cluster
// stops when they end:
//
//	func TestMain(m *testing.M) { pgtest.Run(m) }
//
// Without PostgreSQL binaries a test is skipped, except when the CI
// variable is set: then it fails, so that CI never passes by skipping.
package pgtest

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/pgcluster"
	"github.com/jackc/pgx/v5"
)

var (
	once    sync.Once
	cluster *pgcluster.Cluster
	initErr error
	counter atomic.Int64
)

// Run runs the tests and stops the cluster, if one was started.
func Run(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: stop postgres:", err)
		}
	}
	os.Exit(code)
}

// Cluster returns the shared cluster, starting it on first use.
func Cluster(t testing.TB) *pgcluster.Cluster {
	t.Helper()
	once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cluster, initErr = pgcluster.Start(ctx, pgcluster.Options{})
	})
	if initErr != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("PostgreSQL is not available (%v); with CI set this test fails instead", initErr)
		}
		t.Fatalf("PostgreSQL is required in CI: %v", initErr)
	}
	return cluster
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9_]+`)

// DB creates a fresh database for the test, drops it when the test ends,
// and returns its DSN.
func DB(t testing.TB) string {
	t.Helper()
	c := Cluster(t)
	name := unsafeChars.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	name = fmt.Sprintf("t_%s_%d", name, counter.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn, err := c.CreateDatabase(ctx, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.DropDatabase(ctx, name); err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	return dsn
}

// OwnCluster starts a throwaway server for this test alone, one it may
// stop and start again (a warehouse outage), stopped when the test ends.
// It skips the test when DPCOPS_TEST_PG_DSN points at a server the
// harness did not start (it must not be stopped), and when no server can
// be started, unless CI is set: then it fails.
func OwnCluster(t testing.TB) *pgcluster.Cluster {
	t.Helper()
	if os.Getenv(pgcluster.EnvDSN) != "" {
		t.Skip("needs a server the harness starts (it stops it); CI starts its own")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := pgcluster.Start(ctx, pgcluster.Options{})
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("PostgreSQL not available: %v; with CI set this fails", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Stop() })
	return cl
}

// Connect opens a connection to dsn for the test, closed when the test
// and its cleanups end.
func Connect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// ExecFile runs the SQL script at path (a fixture) on dsn, failing the
// test if it cannot.
func ExecFile(t testing.TB, dsn, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if _, err := Connect(t, dsn).Exec(context.Background(), string(b)); err != nil {
		t.Fatalf("pgtest: %s: %v", path, err)
	}
}

// Querier is what WaitFor asks of a connection (*pgx.Conn is one).
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// WaitFor polls the server until query returns true, for at most 10 s: a
// test waits on real server state (a session active, a VACUUM under way),
// never on time itself.
func WaitFor(t testing.TB, ctx context.Context, db Querier, what, query string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var ok bool
		if err := db.QueryRow(ctx, query, args...).Scan(&ok); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
