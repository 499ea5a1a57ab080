package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// FileName is the database file inside the data directory.
const FileName = "dpcops.db"

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrNewerSchema is returned by Open for a store written by a newer dpcops.
var ErrNewerSchema = errors.New("store schema is newer than this dpcops")

// Store is the embedded state database.
type Store struct {
	path   string
	writer *sql.DB
	reader *sql.DB
	// lock is the held lock file of an exclusive store, else nil.
	lock *os.File
	// health follows whether writes go through.
	health writeHealth

	// seriesMu guards seriesIDs, a cache of series ids by metric and dims.
	seriesMu  sync.Mutex
	seriesIDs map[seriesKey]int64
}

type seriesKey struct{ metric, dims string }

// Options tune Open.
type Options struct {
	// ReadOnly opens an existing store for reading only: no migration runs
	// and no directory is created.
	ReadOnly bool
	// Readers is the size of the read pool (default 4).
	Readers int
	// Exclusive takes the store's lock file (see LockFile) for as long as
	// the store is open, and fails with an *InUseError if another process
	// holds it. The processes that run engines on the store (serve, demo,
	// collect --once) open it so: two of them would store every datapoint
	// twice and fight over alarm state. Commands that read, or write what
	// a running serve expects to be written beside it (a retry, a note),
	// open without it.
	Exclusive bool
}

// Open opens (creating it if need be) the store in dir and brings its
// schema up to date.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("open store: no data directory given")
	}
	path := filepath.Join(dir, FileName)
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	} else if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{path: path, seriesIDs: map[seriesKey]int64{}}
	var err error
	if opts.Exclusive && !opts.ReadOnly {
		// Locked before the database is touched: a refused process
		// migrates nothing.
		if s.lock, err = lock(dir); err != nil {
			return nil, err
		}
	}
	if !opts.ReadOnly {
		s.writer, err = openDB(path, false)
		if err != nil {
			s.Close()
			return nil, err
		}
		// One writer connection serialises every write in the process.
		s.writer.SetMaxOpenConns(1)
		if err := s.migrate(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.reader, err = openDB(path, true)
	if err != nil {
		s.Close()
		return nil, err
	}
	readers := opts.Readers
	if readers <= 0 {
		readers = 4
	}
	s.reader.SetMaxOpenConns(readers)
	if opts.ReadOnly {
		if err := s.checkVersion(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func openDB(path string, readOnly bool) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_pragma", "cache_size(-65536)")
		q.Set("_txlock", "immediate")
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return db, nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes the store, and releases its lock last, once nothing of
// this process writes to it any more.
func (s *Store) Close() error {
	var errs []error
	if s.writer != nil {
		errs = append(errs, s.writer.Close())
	}
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
	}
	return errors.Join(errs...)
}

// Ping checks that the store answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.reader.PingContext(ctx)
}

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with its version number", e.Name())
		}
		b, err := fs.ReadFile(migrationFS, "migrations/"+e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: want version %d", m.name, i+1)
		}
	}
	return out, nil
}

// SchemaVersion is the schema version this binary writes.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

func (s *Store) version(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("open store %s: %w", s.path, err)
	}
	return v, nil
}

func (s *Store) newerError(have, want int) error {
	return fmt.Errorf("%w: %s has schema version %d, this dpcops knows up to %d; upgrade dpcops or use another --data directory", ErrNewerSchema, s.path, have, want)
}

func (s *Store) checkVersion(ctx context.Context) error {
	have, err := s.version(ctx, s.reader)
	if err != nil {
		return err
	}
	if want := SchemaVersion(); have > want {
		return s.newerError(have, want)
	}
	return nil
}

// migrate applies the migrations the store lacks, each in its own
// transaction together with the version bump.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("store migrations: %w", err)
	}
	// A store already up to date costs no write transaction.
	have, err := s.version(ctx, s.writer)
	if err != nil {
		return err
	}
	if have > len(ms) {
		return s.newerError(have, len(ms))
	}
	for _, m := range ms[have:] {
		if err := s.apply(ctx, m, len(ms)); err != nil {
			return err
		}
	}
	return nil
}

// apply runs one migration unless the store has it already. The version
// is read inside the migration's write transaction, which BEGIN IMMEDIATE
// (_txlock=immediate) starts with the write lock held: two processes
// opening a fresh store at once take turns, and the second finds the
// migration applied instead of applying it again.
func (s *Store) apply(ctx context.Context, m migration, latest int) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate store to %s: %w", m.name, err)
	}
	defer tx.Rollback()
	var have int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("migrate store to %s: %w", m.name, err)
	}
	if have > latest {
		return s.newerError(have, latest)
	}
	if have >= m.version {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migrate store to %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
		return fmt.Errorf("migrate store to %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate store to %s: %w", m.name, err)
	}
	return nil
}

// WriteTx runs fn in one write transaction: all of it commits, or none.
// Packages that own a table (alarm state, outbox) write through it, so that
// a transition and the notifications it owes commit together.
func (s *Store) WriteTx(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.writer == nil {
		return errors.New("store is open read-only")
	}
	err := s.writeTx(ctx, fn)
	s.health.observe(err)
	return err
}

func (s *Store) writeTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Reader returns the read pool, for packages that query their own tables.
func (s *Store) Reader() *sql.DB { return s.reader }

// Millis converts a time to the store's Unix milliseconds.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// FromMillis converts the store's Unix milliseconds to a time.
func FromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
