package pgcluster_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dpc-learning/dpcops/internal/pgcluster"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

func TestDatabaseIsRealAndIsolated(t *testing.T) {
	ctx := context.Background()
	a, b := pgtest.DB(t), pgtest.DB(t)
	if a == b {
		t.Fatal("two tests share a database")
	}
	conn, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var version string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil || version == "" {
		t.Fatalf("server_version: %q, %v", version, err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE only_in_a (x int)"); err != nil {
		t.Fatal(err)
	}
	connB, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer connB.Close(ctx)
	var n int
	connB.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'").Scan(&n)
	if n != 0 {
		t.Error("a table of one test's database is visible in another's")
	}
}

// TestJSONLogRecordsErrors checks the server writes its errors to the
// jsonlog, which the collectors read for the error log widget.
func TestJSONLogRecordsErrors(t *testing.T) {
	c := pgtest.Cluster(t)
	if c.External() {
		t.Skip("the jsonlog is only known for a cluster the harness started, not for " + pgcluster.EnvDSN + "; CI starts its own")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	conn.Exec(ctx, "SELECT * FROM no_such_table_for_jsonlog")
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(c.LogFile())
		if strings.Contains(string(b), `"error_severity":"ERROR"`) && strings.Contains(string(b), "no_such_table_for_jsonlog") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ERROR line in %s:\n%s", c.LogFile(), b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestStartStopAndRestart(t *testing.T) {
	if os.Getenv(pgcluster.EnvDSN) != "" {
		t.Skip("uses the server " + pgcluster.EnvDSN + " names; CI starts its own")
	}
	ctx := context.Background()
	c, err := pgcluster.Start(ctx, pgcluster.Options{})
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("PostgreSQL not available: %v (with CI set this fails)", err)
		}
		t.Fatal(err)
	}
	dir := c.LogDir()
	if err := c.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, c.DSN)
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	conn.Close(ctx)
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("cluster directory %s left behind", dir)
	}
	if _, err := pgx.Connect(ctx, c.DSN); err == nil {
		t.Error("server still answers after Stop")
	}
	if err := c.Stop(); err != nil {
		t.Errorf("a second Stop: %v", err)
	}
}

func TestMissingBinariesSayHowToInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := pgcluster.FindBinaries()
	if _, statErr := os.Stat("/usr/lib/postgresql"); statErr == nil {
		// Debian keeps the binaries outside PATH; FindBinaries finds them.
		if err != nil {
			t.Fatalf("binaries under /usr/lib/postgresql not found: %v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y postgresql") {
		t.Fatalf("want an install hint, got %v", err)
	}
}
