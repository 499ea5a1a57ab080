package inbox

import (
	"context"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
)

// Prune deletes, in batches, the inbox messages received before before,
// read or not: the inbox shows what was sent lately, and the outbox keeps
// the record of each delivery as long. The newest message stays, so that
// its id is never handed to a new one.
func Prune(ctx context.Context, st *store.Store, before time.Time) (store.Pruned, error) {
	return st.PruneRows(ctx, store.Pruning{
		Table: "inbox",
		Candidates: `SELECT id, '', 0 FROM inbox WHERE id > ?1 AND +received_at < ?3
			AND id < (SELECT max(id) FROM inbox) ORDER BY id LIMIT ?2`,
		Args:    []any{store.Millis(before)},
		Deletes: []string{`DELETE FROM inbox WHERE id IN (%s)`},
	})
}
