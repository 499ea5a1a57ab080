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

	"github.com/jackc/pgx/v5"
	"modernc.org/sqlite" // registers the "sqlite" driver
)

// FileName is the database file inside the data directory.
const FileName = "dpcops.db"

//go:embed migrations/*.sql
var migrationFS embed.FS

// ErrNewerSchema is returned by Open for a store written by a newer dpcops.
var ErrNewerSchema = errors.New("store schema is newer than this dpcops")

// Store is the embedded state database.
type Store struct {
	// path is the database file, or the PostgreSQL server and database
	// (never the password), for messages.
	path string
	// pg says the store is a PostgreSQL database, not an SQLite file.
	pg     bool
	writer *sql.DB
	reader *sql.DB
	// lock is the held lock file of an exclusive store, else nil.
	lock *os.File
	// pgLock holds a PostgreSQL store's advisory lock: its own pool of
	// one connection, whose session holds the lock until it closes.
	pgLock *sql.DB
	// coord is a PostgreSQL store's connection for leader election.
	coord *sql.DB
	// pgcfg is a PostgreSQL store's connection settings, for the
	// connections Listen opens.
	pgcfg *pgx.ConnConfig
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
	// DSN, when set, is a PostgreSQL database to keep the state in
	// (spec store.dsn, serve --store) instead of dir's SQLite file; dir
	// still holds what is the process's own (the token).
	DSN string
}

// Open opens (creating it if need be) the store in dir and brings its
// schema up to date.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if opts.DSN != "" {
		return openPostgres(ctx, opts)
	}
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
	// The first connection applies the pragmas. Turning a fresh file to
	// WAL needs an exclusive lock, and SQLite answers SQLITE_BUSY at once
	// rather than wait (waiting could deadlock) while another process
	// does the same: two processes opening a fresh store take turns here.
	for wait := 10 * time.Millisecond; ; wait *= 2 {
		err = db.Ping()
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != codeBusy || wait > 2*time.Second {
			break
		}
		time.Sleep(wait)
	}
	if err != nil {
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
	if s.pgLock != nil {
		errs = append(errs, s.pgLock.Close())
	}
	if s.coord != nil {
		errs = append(errs, s.coord.Close())
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
	if err := s.fence(ctx, tx); err != nil {
		tx.Rollback()
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

// Querier is a read pool or a transaction (*sql.DB, *sql.Tx). The
// functions through which a package lets others read its tables take one,
// so that a caller that must read another package's table inside its own
// write transaction can (notify checks an alarm's state inside the
// transaction that enqueues its repeat), and one that need not passes
// Reader.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Millis converts a time to the store's Unix milliseconds.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// FromMillis converts the store's Unix milliseconds to a time.
func FromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
