package store

import (
	"context"
	"database/sql"
)

// Stmt is a statement a transaction runs many times (PrepareTx).
type Stmt struct {
	tx    *sql.Tx
	query string
	st    *sql.Stmt // nil on PostgreSQL
}

// PrepareTx readies query to run many times inside tx. SQLite parses it
// once here, which spares a busy writer most of its CPU. On PostgreSQL
// the driver already prepares each statement once per connection and
// keeps it, so an explicit prepare would only add two round trips (the
// prepare and its release) to every transaction: the statement runs as
// it is.
func (s *Store) PrepareTx(ctx context.Context, tx *sql.Tx, query string) (*Stmt, error) {
	if s.pg {
		return &Stmt{tx: tx, query: query}, nil
	}
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &Stmt{tx: tx, query: query, st: st}, nil
}

// ExecContext runs the statement with args.
func (s *Stmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	if s.st == nil {
		return s.tx.ExecContext(ctx, s.query, args...)
	}
	return s.st.ExecContext(ctx, args...)
}

// QueryContext runs the statement with args and returns its rows.
func (s *Stmt) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	if s.st == nil {
		return s.tx.QueryContext(ctx, s.query, args...)
	}
	return s.st.QueryContext(ctx, args...)
}

// Close releases the statement; the transaction's end does too.
func (s *Stmt) Close() error {
	if s.st == nil {
		return nil
	}
	return s.st.Close()
}
