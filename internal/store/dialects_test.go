package store

import (
	"context"
	"testing"

	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

// eachDialect runs test once on an SQLite store and once on a PostgreSQL
// store (a fresh database of the harness's server): what the packages
// above the store rely on must hold on both. open opens the test's store
// again (the same file, the same database), as a restart does.
func eachDialect(t *testing.T, test func(t *testing.T, open func() *Store)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		test(t, func() *Store { return openTest(t, dir) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn, dir := pgtest.DB(t), t.TempDir()
		test(t, func() *Store {
			t.Helper()
			s, err := Open(context.Background(), dir, Options{DSN: dsn})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
}

// refuseLogLine makes the store refuse a log line whose message is boom,
// with a trigger in the store's own dialect: a write that fails inside a
// transaction after others in it succeeded.
func refuseLogLine(t *testing.T, s *Store) {
	t.Helper()
	ddl := []string{`CREATE TRIGGER refuse BEFORE INSERT ON log_lines WHEN NEW.message = 'boom'
		BEGIN SELECT RAISE(ABORT, 'refused'); END`}
	if s.pg {
		ddl = []string{`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.message = 'boom' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER refuse BEFORE INSERT ON log_lines FOR EACH ROW EXECUTE FUNCTION refuse()`}
	}
	for _, q := range ddl {
		if _, err := s.writer.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}
