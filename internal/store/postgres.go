package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// openPostgres opens a store kept in a PostgreSQL database (Amazon RDS or
// Aurora in production) and brings its schema up to date. Every package's
// SQL runs on it unchanged: the connections rebind SQLite's placeholders,
// and the migrations are translated (pgDDL).
//
// Writes go through one connection, as on SQLite: within a process they
// are serialised, which the engines' guarantees rely on today.
func openPostgres(ctx context.Context, opts Options) (*Store, error) {
	cfg, err := pgx.ParseConfig(opts.DSN)
	if err != nil {
		// pgx's parse errors may quote the DSN, password included.
		return nil, errors.New("open store: store.dsn does not parse as a PostgreSQL connection string")
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "dpcops-store"
	}
	// dpcops never idles inside a transaction: a session that does (its
	// host gone mid-transaction) must not hold its locks, the leader
	// lease's above all, until TCP keepalive notices.
	if cfg.RuntimeParams["idle_in_transaction_session_timeout"] == "" {
		cfg.RuntimeParams["idle_in_transaction_session_timeout"] = "10s"
	}
	// After a failover of the database (RDS Multi-AZ, Aurora), connect to
	// the node that takes writes, not to a stale address now read-only.
	if !strings.Contains(opts.DSN, "target_session_attrs") {
		cfg.ValidateConnect = pgconn.ValidateConnectTargetSessionAttrsReadWrite
	}
	s := &Store{path: fmt.Sprintf("postgres://%s:%d/%s", cfg.Host, cfg.Port, cfg.Database), pg: true, pgcfg: cfg, seriesIDs: map[seriesKey]int64{}}
	pool := func(n int) (*sql.DB, error) {
		db := sql.OpenDB(pgConnector(cfg))
		db.SetMaxOpenConns(n)
		db.SetConnMaxIdleTime(5 * time.Minute)
		// Connections are renewed now and then, so that one left on a
		// node that stopped taking writes does not stay for ever.
		db.SetConnMaxLifetime(10 * time.Minute)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("open store %s: %w", s.path, redactPassword(err, cfg.Password))
		}
		return db, nil
	}
	if opts.Exclusive && !opts.ReadOnly {
		// Locked before anything is migrated: a refused process changes
		// nothing.
		if err := s.lockPostgres(ctx, cfg); err != nil {
			return nil, err
		}
	}
	readers := opts.Readers
	if readers <= 0 {
		readers = 4
	}
	if s.reader, err = pool(readers); err != nil {
		return nil, err
	}
	if opts.ReadOnly {
		if err := s.checkVersion(ctx); err != nil {
			s.Close()
			return nil, err
		}
		return s, nil
	}
	if s.writer, err = pool(1); err != nil {
		s.Close()
		return nil, err
	}
	if s.coord, err = pool(1); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// redactPassword keeps a password out of an error's text.
func redactPassword(err error, password string) error {
	if password == "" {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "<redacted>"))
}

// Dialect names the store's database: "sqlite" or "postgres".
func (s *Store) Dialect() string {
	if s.pg {
		return "postgres"
	}
	return "sqlite"
}

// pgHolderLock is the advisory lock the one process that runs the
// engines on a PostgreSQL store holds (as the lock file does on SQLite).
const pgHolderLock = 0x64706370_686f6c64 // "dpcphold"

// lockPostgres takes the store's advisory lock on a session of its own
// and records who holds it; the server releases it when that session
// ends, however the process ends. A second process gets an *InUseError
// naming the holder.
func (s *Store) lockPostgres(ctx context.Context, cfg *pgx.ConnConfig) error {
	db := sql.OpenDB(pgConnector(cfg))
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	var got bool
	if err := db.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, int64(pgHolderLock)).Scan(&got); err != nil {
		db.Close()
		return fmt.Errorf("lock store %s: %w", s.path, redactPassword(err, cfg.Password))
	}
	if !got {
		// The holder wrote its name; a store it never wrote to says less.
		e := &InUseError{Lock: s.path}
		if err := db.QueryRowContext(ctx, `SELECT pid, host FROM dpcops_holder LIMIT 1`).Scan(&e.PID, &e.Host); err != nil {
			e.PID, e.Host = 0, ""
		}
		db.Close()
		return e
	}
	// Serves that share the store elect a leader rather than take this
	// lock: a live lease is a serve running the engines. A store not yet
	// migrated has no lease table, and no leader.
	var leader string
	err := db.QueryRowContext(ctx, `SELECT holder FROM leader_lease
		WHERE id = 1 AND expires_at >= (extract(epoch FROM clock_timestamp()) * 1000)::bigint`).Scan(&leader)
	var pe *pgconn.PgError
	switch {
	case err == nil:
		db.Close()
		return &InUseError{Host: leader, Lock: s.path}
	case errors.Is(err, sql.ErrNoRows), errors.As(err, &pe) && pe.Code == "42P01": // undefined_table
	default:
		db.Close()
		return fmt.Errorf("lock store %s: %w", s.path, redactPassword(err, cfg.Password))
	}
	host, _ := os.Hostname()
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`CREATE TABLE IF NOT EXISTS dpcops_holder (pid BIGINT NOT NULL, host TEXT NOT NULL, since BIGINT NOT NULL)`, nil},
		{`DELETE FROM dpcops_holder`, nil},
		{`INSERT INTO dpcops_holder VALUES ($1, $2, $3)`, []any{os.Getpid(), host, Millis(time.Now())}},
	} {
		if _, err := db.ExecContext(ctx, stmt.sql, stmt.args...); err != nil {
			db.Close()
			return fmt.Errorf("lock store %s: %w", s.path, redactPassword(err, cfg.Password))
		}
	}
	s.pgLock = db
	return nil
}

// Coordination returns a PostgreSQL store's pool of one connection of its
// own, for leader election: its statements never queue behind the
// engines' writes, which go through the one writer connection. Nil on
// SQLite, and on a store opened read-only.
func (s *Store) Coordination() *sql.DB { return s.coord }
