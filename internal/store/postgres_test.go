package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
)

func openPG(t *testing.T, dsn string, o Options) (*Store, error) {
	t.Helper()
	o.DSN = dsn
	s, err := Open(context.Background(), t.TempDir(), o)
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

// TestPostgresMigratesOnceAndReopens: replicas opening a fresh database at
// once take turns in the migrations (an advisory lock), the schema ends at
// the latest version, and what was written is there after a reopen.
func TestPostgresMigratesOnceAndReopens(t *testing.T) {
	dsn := pgtest.DB(t)
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			<-start
			s, err := Open(context.Background(), t.TempDir(), Options{DSN: dsn})
			if err == nil {
				if err = s.InsertDatapoints(context.Background(), batch("M", i*10, 10)); err == nil {
					err = s.Close()
				}
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
	}
	s, err := openPG(t, dsn, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.readVersion(context.Background(), s.reader); err != nil || v != SchemaVersion() {
		t.Errorf("version %d, %v; want %d", v, err, SchemaVersion())
	}
	var applied int
	s.reader.QueryRow(`SELECT count(*) FROM ` + pgSchemaTable).Scan(&applied)
	if applied != SchemaVersion() {
		t.Errorf("%d migrations recorded, want each of %d once", applied, SchemaVersion())
	}
	if n, _ := s.CountDatapoints(context.Background()); n != 60 {
		t.Errorf("%d datapoints after reopening, want 60", n)
	}
	if s.Dialect() != "postgres" || !strings.HasPrefix(s.Path(), "postgres://") {
		t.Errorf("dialect %s, path %s", s.Dialect(), s.Path())
	}
}

// TestPostgresOneHolder: one process runs the engines on a PostgreSQL
// store until leader election exists; a second is refused naming the
// holder, the others read and write beside it, and the lock goes with the
// holder's session.
func TestPostgresOneHolder(t *testing.T) {
	dsn := pgtest.DB(t)
	first, err := openPG(t, dsn, Options{Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = openPG(t, dsn, Options{Exclusive: true})
	var inUse *InUseError
	host, _ := os.Hostname()
	if !errors.As(err, &inUse) || inUse.PID != os.Getpid() || inUse.Host != host || !strings.Contains(err.Error(), "store in use by PID") {
		t.Fatalf("a second holder: %v", err)
	}
	beside, err := openPG(t, dsn, Options{})
	if err != nil {
		t.Fatalf("a command beside the holder: %v", err)
	}
	if err := beside.InsertDatapoints(context.Background(), batch("M", 0, 5)); err != nil {
		t.Fatal(err)
	}
	first.Close()
	again, err := openPG(t, dsn, Options{Exclusive: true})
	if err != nil {
		t.Fatalf("after the holder closed: %v", err)
	}
	again.Close()
	// A serve that leads the store by its lease holds it too.
	if _, err := beside.Reader().Exec(`INSERT INTO leader_lease (id, holder, epoch, expires_at, renewed_at)
		VALUES (1, 'ops-2:77/abc', 1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint + 60000, 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := openPG(t, dsn, Options{Exclusive: true}); !errors.As(err, &inUse) || inUse.Host != "ops-2:77/abc" {
		t.Errorf("beside a live leader: %v", err)
	}
}

// TestPostgresNewerSchemaIsRefused: a database a newer dpcops migrated is
// not misread.
func TestPostgresNewerSchemaIsRefused(t *testing.T) {
	dsn := pgtest.DB(t)
	s, err := openPG(t, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.Exec(`INSERT INTO ` + pgSchemaTable + ` VALUES (999)`); err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		if _, err := openPG(t, dsn, Options{ReadOnly: ro}); !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "version 999") {
			t.Errorf("read-only=%v: %v", ro, err)
		}
	}
}

// TestPostgresOpenErrorsHideThePassword: a DSN that does not parse, or a
// server that refuses it, is an error without the password.
func TestPostgresOpenErrorsHideThePassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://dpcops:s3cretpw@127.0.0.1:notaport/db",
		"postgres://dpcops:s3cretpw@127.0.0.1:1/db?connect_timeout=1&sslmode=disable",
	} {
		_, err := Open(context.Background(), t.TempDir(), Options{DSN: dsn})
		if err == nil || strings.Contains(err.Error(), "s3cretpw") {
			t.Errorf("%s: %v", dsn, err)
		}
	}
}

// TestStoreFaults: which errors mean the store refuses writes, on either
// database, and which are a caller's.
func TestStoreFaults(t *testing.T) {
	for code, fault := range map[string]bool{
		"53100": true,  // disk full
		"58030": true,  // I/O error
		"57P01": true,  // admin shutdown
		"08006": true,  // connection failure
		"25006": true,  // read-only transaction (a demoted primary)
		"23505": false, // unique violation: the caller's
		"42P01": false, // undefined table: a bug, not the disk
		"40001": false, // serialization failure: retry the transaction
	} {
		if got := storeFault(&pgconn.PgError{Code: code}); got != fault {
			t.Errorf("SQLSTATE %s: fault %v, want %v", code, got, fault)
		}
	}
	if storeFault(errors.New("boom")) {
		t.Error("a plain error is not the store's")
	}
	// A caller's deadline (queued behind a slow write, say) is not the
	// store refusing writes, though it answers net.Error's Timeout.
	if storeFault(fmt.Errorf("insert: %w", context.DeadlineExceeded)) || storeFault(context.Canceled) {
		t.Error("a caller's deadline or cancel is not the store's fault")
	}
}

// TestPostgresWakeReachesListenersOnCommit: a Wake inside a transaction
// reaches a listener on another store handle when the transaction
// commits, with its rows visible; a rolled-back one never does; and a
// listener whose connection the server ends connects again, calls once
// for what it may have missed, and hears the next wake-up.
func TestPostgresWakeReachesListenersOnCommit(t *testing.T) {
	dsn := pgtest.DB(t)
	writer, err := openPG(t, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	listener, err := openPG(t, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := writer.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`CREATE TABLE work (n BIGINT)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Each wake-up reports how many rows of work the listener then sees.
	woken := make(chan int, 16)
	var wg sync.WaitGroup
	wg.Go(func() {
		listener.Listen(ctx, "dpcops_test", func() {
			var n int
			if err := listener.Reader().QueryRow(`SELECT count(*) FROM work`).Scan(&n); err != nil {
				n = -1
			}
			woken <- n
		}, nil)
	})
	defer wg.Wait()
	defer cancel()
	if n := <-woken; n != 0 {
		t.Fatalf("the wake-up on listening saw %d rows", n)
	}
	add := func(rollback bool) {
		t.Helper()
		err := writer.WriteTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.Exec(`INSERT INTO work VALUES (1)`); err != nil {
				return err
			}
			if err := writer.Wake(ctx, tx, "dpcops_test"); err != nil {
				return err
			}
			if rollback {
				return errors.New("rolled back")
			}
			return nil
		})
		if (err != nil) != rollback {
			t.Fatal(err)
		}
	}
	add(true)  // never heard: the next wake-up is the commit's
	add(false) // heard, its row visible
	if n := <-woken; n != 1 {
		t.Errorf("woken seeing %d rows, want 1: a wake-up came before its commit or from a rollback", n)
	}
	// The server ends the listening session; the listener comes back.
	if _, err := writer.Reader().Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%'`); err != nil {
		t.Fatal(err)
	}
	if n := <-woken; n != 1 {
		t.Errorf("the wake-up on listening again saw %d rows", n)
	}
	add(false)
	if n := <-woken; n != 2 {
		t.Errorf("woken after reconnecting seeing %d rows, want 2", n)
	}
}
