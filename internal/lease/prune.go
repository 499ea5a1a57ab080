package lease

import (
	"context"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
)

// Prune deletes, in batches, the leases closed before before, with their
// events. An open lease stays whatever its age, and so does the newest
// lease, so that its id is never handed to a new one.
func Prune(ctx context.Context, st *store.Store, before time.Time) (store.Pruned, error) {
	return st.PruneRows(ctx, store.Pruning{
		Table: "capacity_leases",
		Candidates: `SELECT id, '', 0 FROM capacity_leases WHERE id > ?1 AND +closed_at IS NOT NULL AND +closed_at < ?3
			AND id < (SELECT max(id) FROM capacity_leases) ORDER BY id LIMIT ?2`,
		Args: []any{store.Millis(before)},
		Deletes: []string{
			`DELETE FROM capacity_lease_events WHERE lease_id IN (%s)`,
			`DELETE FROM capacity_leases WHERE id IN (%s)`,
		},
	})
}
