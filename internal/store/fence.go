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

// fenceValue is the term a fenced write belongs to: the epoch and the
// replica that holds it, so that an epoch handed out twice (a restore of
// the store, a database failover that lost commits) does not pass for
// another holder's.
type fenceValue struct {
	epoch  int64
	holder string
}

// WithFence returns a context whose writes (WriteTx) commit only while
// epoch, held by holder, is the store's leadership term. The leader runs its engines
// under it, so that a write one of them makes after another replica took
// over (a late retry, a slow statement) is refused instead of mixed with
// the new leader's. On SQLite, whose one process always leads, it
// changes nothing.
func WithFence(ctx context.Context, epoch int64, holder string) context.Context {
	return context.WithValue(ctx, fenceKey{}, fenceValue{epoch, holder})
}

// fence checks, inside tx, that the context's epoch still leads, and
// holds the lease row shared until tx ends, so that a takeover waits for
// this transaction rather than overtake it.
func (s *Store) fence(ctx context.Context, tx *sql.Tx) error {
	f, ok := ctx.Value(fenceKey{}).(fenceValue)
	if !ok || !s.pg {
		return nil
	}
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM leader_lease WHERE id = 1 AND epoch = $1 AND holder = $2 FOR SHARE) l`,
		f.epoch, f.holder).Scan(&n)
	if err != nil {
		return fmt.Errorf("check leadership: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("%w (epoch %d)", ErrDeposed, f.epoch)
	}
	return nil
}
