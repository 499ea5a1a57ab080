package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrDeposed refuses a write made under a leadership epoch that is no
// longer the store's: another replica leads now.
var ErrDeposed = errors.New("this replica no longer leads: the write is refused")

type fenceKey struct{}

// WithFence returns a context whose writes (WriteTx) commit only while
// epoch is the store's leadership epoch. The leader runs its engines
// under it, so that a write one of them makes after another replica took
// over (a late retry, a slow statement) is refused instead of mixed with
// the new leader's. On SQLite, whose one process always leads, it
// changes nothing.
func WithFence(ctx context.Context, epoch int64) context.Context {
	return context.WithValue(ctx, fenceKey{}, epoch)
}

// fence checks, inside tx, that the context's epoch still leads, and
// holds the lease row shared until tx ends, so that a takeover waits for
// this transaction rather than overtake it.
func (s *Store) fence(ctx context.Context, tx *sql.Tx) error {
	epoch, ok := ctx.Value(fenceKey{}).(int64)
	if !ok || !s.pg {
		return nil
	}
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM leader_lease WHERE id = 1 AND epoch = $1 FOR SHARE) l`, epoch).Scan(&n)
	if err != nil {
		return fmt.Errorf("check leadership: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("%w (epoch %d)", ErrDeposed, epoch)
	}
	return nil
}
