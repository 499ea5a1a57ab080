// Package storetest gives tests a store of their own, closed when the
// test ends, and checks that hold for any store.
//
// The store is SQLite by default. With DPCOPS_TEST_STORE=postgres it is a
// fresh database of the harness's PostgreSQL server (pgtest), so that the
// same tests prove the same behaviour on both stores; `make test` runs the
// packages whose tests open stores here both ways. A package that opens
// stores here runs its tests through pgtest.Run, so that the server stops
// when they end.
package storetest

import (
	"context"
	"database/sql"
	"os"
	"testing"

	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
	"github.com/dpc-learning/dpcops/internal/store"
)

// EnvStore chooses the test stores' database: "postgres", or SQLite.
const EnvStore = "DPCOPS_TEST_STORE"

// Postgres reports whether tests run on PostgreSQL stores.
func Postgres() bool { return os.Getenv(EnvStore) == "postgres" }

// Opener returns a function that opens the test's store: the same one
// each time (the same file or database), as a restart does. Each store it
// opens is closed when the test ends.
func Opener(t testing.TB) func() *store.Store {
	t.Helper()
	dir := t.TempDir()
	var o store.Options
	if Postgres() {
		o.DSN = pgtest.DB(t)
	}
	return func() *store.Store {
		t.Helper()
		st, err := store.Open(context.Background(), dir, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
}

// Open returns a fresh store for the test, closed when it ends.
func Open(t testing.TB) *store.Store {
	t.Helper()
	return Opener(t)()
}

// ForeignKeysHold fails the test if any row refers to a row that is gone.
func ForeignKeysHold(t testing.TB, st *store.Store) {
	t.Helper()
	if bad, err := st.ForeignKeyCheck(context.Background()); err != nil || len(bad) > 0 {
		t.Errorf("foreign keys: %v %v", bad, err)
	}
}

// Refuse makes the store refuse every insert into table with message, in
// the store's own dialect (a trigger), until the returned function lifts
// the refusal: a write that fails inside its transaction, as a full disk
// or a constraint would make it.
func Refuse(t testing.TB, st *store.Store, table, message string) (lift func()) {
	t.Helper()
	sw := "refuse_" + table
	ddl := `CREATE TABLE ` + sw + ` (n INTEGER); INSERT INTO ` + sw + ` VALUES (1);
		CREATE TRIGGER ` + sw + ` BEFORE INSERT ON ` + table + ` WHEN EXISTS (SELECT 1 FROM ` + sw + `)
		BEGIN SELECT RAISE(ABORT, '` + message + `'); END`
	if st.Dialect() == "postgres" {
		ddl = `CREATE TABLE ` + sw + ` (n BIGINT); INSERT INTO ` + sw + ` VALUES (1);
		CREATE FUNCTION ` + sw + `() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF EXISTS (SELECT 1 FROM ` + sw + `) THEN RAISE EXCEPTION '` + message + `'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER ` + sw + ` BEFORE INSERT ON ` + table + ` FOR EACH ROW EXECUTE FUNCTION ` + sw + `()`
	}
	if err := st.WriteTx(context.Background(), func(tx *sql.Tx) error { _, err := tx.Exec(ddl); return err }); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if err := st.WriteTx(context.Background(), func(tx *sql.Tx) error { _, err := tx.Exec(`DELETE FROM ` + sw); return err }); err != nil {
			t.Fatal(err)
		}
	}
}
