package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// writeHealth follows whether the store takes writes: a disk that is full
// or failing makes every write fail, and dpcops must not go on answering
// "ready" (nor ping its heartbeat) while it records nothing.
type writeHealth struct {
	mu       sync.Mutex
	failing  int // consecutive writes refused by the store itself
	lastErr  error
	lastOK   time.Time
	failedAt time.Time
}

// The primary SQLite result codes that mean the store itself refuses
// writes, whatever the statement: not a constraint or a caller's error.
const (
	codeBusy     = 5
	codeReadOnly = 8
	codeIOErr    = 10
	codeCorrupt  = 11
	codeFull     = 13
	codeCantOpen = 14
	codeNotADB   = 26
)

// storeFault reports whether err is the store refusing writes.
func storeFault(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case codeBusy, codeReadOnly, codeIOErr, codeCorrupt, codeFull, codeCantOpen, codeNotADB:
			return true
		}
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Insufficient resources (a full disk: 53100), system errors (58),
		// the server shutting down or starting (57P), connection
		// exceptions (08), and a read-only server (25006: a replica left
		// behind by a failover).
		for _, class := range []string{"53", "58", "57P", "08", "25006"} {
			if strings.HasPrefix(pe.Code, class) {
				return true
			}
		}
		return false
	}
	// A caller's own deadline or cancel says nothing of the store.
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	// A PostgreSQL store that cannot be reached at all.
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn)
}

// observe records the outcome of one write transaction.
func (h *writeHealth) observe(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err == nil:
		h.failing, h.lastErr, h.lastOK = 0, nil, time.Now()
	case storeFault(err):
		if h.failing == 0 {
			h.failedAt = time.Now()
		}
		h.failing++
		h.lastErr = err
	}
}

// Writable returns nil when the last write the store was asked for went
// through (or none was asked), else why it did not, since when and how
// many writes in a row failed.
func (s *Store) Writable() error {
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failing == 0 {
		return nil
	}
	return fmt.Errorf("the store refuses writes (%d in a row since %s): %w", h.failing, h.failedAt.UTC().Format(time.RFC3339), h.lastErr)
}

// UniqueViolation reports whether err is a unique constraint refusing a
// row, on either database: how a writer learns that another got there
// first.
func UniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == codeConstraintUnique || se.Code() == codeConstraintPrimaryKey
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// SQLite's extended result codes for a unique or primary key violation.
const (
	codeConstraintUnique     = 2067
	codeConstraintPrimaryKey = 1555
)
