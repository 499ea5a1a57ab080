package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// lockSpace is the first key of the transaction locks LockTx takes: the
// two-key advisory locks are a space of their own, apart from the
// one-key lock a holder takes (pgHolderLock).
const lockSpace = 0x64706378 // "dpcx"

// LockTx holds, until tx ends, a lock named key that every process on
// the store shares: the transactions that take the same key run one
// after the other. Writers that count before they write (the in-flight
// deliveries of a channel against its limit) take it, so that two
// replicas cannot both count a free slot and fill it twice. On SQLite,
// whose write transactions already run one at a time, it does nothing.
func (s *Store) LockTx(ctx context.Context, tx *sql.Tx, key string) error {
	if !s.pg {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockSpace, key); err != nil {
		return fmt.Errorf("lock %s: %w", key, err)
	}
	return nil
}

// SkipLocked is the clause a claiming SELECT ends with: on PostgreSQL it
// locks the rows it returns (of table, the alias in the query) and passes
// over rows another transaction holds, so that workers on several
// replicas claim apart; SQLite has one writer and no row locks.
func (s *Store) SkipLocked(table string) string {
	if !s.pg {
		return ""
	}
	return " FOR UPDATE OF " + table + " SKIP LOCKED"
}

// Wake announces, inside tx, that topic has work. On PostgreSQL it is a
// NOTIFY, which the server hands to every listener (Listen) when tx
// commits and never if it rolls back: a worker woken finds the rows.
// On SQLite, whose one process writes, in-process wake-ups do the work
// and Wake does nothing.
func (s *Store) Wake(ctx context.Context, tx *sql.Tx, topic string) error {
	if !s.pg {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, '')`, topic); err != nil {
		return fmt.Errorf("wake %s: %w", topic, err)
	}
	return nil
}

// Listen calls wake whenever a transaction that called Wake(topic)
// commits, in this process or another, until ctx ends. It listens on a
// connection of its own; when that connection is lost it connects again
// (1 s to 30 s apart) and calls wake once, for what it may have missed
// meanwhile. On SQLite, and on a store opened read-only, it returns at
// once. Loss and recovery are logged once each.
func (s *Store) Listen(ctx context.Context, topic string, wake func(), log *slog.Logger) {
	if !s.pg || s.pgcfg == nil || s.writer == nil {
		return
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wait, failing := time.Second, false
	for ctx.Err() == nil {
		err := s.listen(ctx, topic, wake, func() {
			if failing {
				log.Info("listening for wake-ups again", "topic", topic)
			}
			failing, wait = false, time.Second
		})
		if ctx.Err() != nil {
			return
		}
		if !failing {
			log.Warn("lost the wake-up connection; polling until it is back", "topic", topic, "err", redactPassword(err, s.pgcfg.Password))
			failing = true
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// listen listens on one connection until it fails or ctx ends; listening
// is called once LISTEN took.
func (s *Store) listen(ctx context.Context, topic string, wake, listening func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.pgcfg.Copy())
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{topic}.Sanitize()); err != nil {
		return err
	}
	listening()
	// Whatever was announced before LISTEN took is looked for now.
	wake()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		wake()
	}
}
