package maintain

import (
	"context"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
)

// PruneRuns deletes, in batches, the finished runs that ended before
// before, with their ANALYZE COMPRESSION reports. It keeps a run still
// running, a run that holds the latest compression report of some table
// (ReadCompression shows it whatever its age), the newest run (so that its
// id is never handed to a new one), and a run keep spares by its start: one
// on a kept incident's timeline.
func PruneRuns(ctx context.Context, st *store.Store, before time.Time, keep func(startedAt time.Time) bool) (store.Pruned, error) {
	var k func(string, time.Time) bool
	if keep != nil {
		k = func(_ string, at time.Time) bool { return keep(at) }
	}
	return st.PruneRows(ctx, store.Pruning{
		Table: "maintenance_runs",
		Candidates: `SELECT r.id, '', r.started_at FROM maintenance_runs r
			WHERE r.id > ?1 AND r.outcome <> 'running' AND coalesce(r.finished_at, r.started_at) < ?3
			AND r.id < (SELECT max(id) FROM maintenance_runs)
			AND NOT EXISTS (SELECT 1 FROM maintenance_compression c WHERE c.run_id = r.id
				AND NOT EXISTS (SELECT 1 FROM maintenance_compression l WHERE l.table_name = c.table_name AND l.run_id > c.run_id))
			ORDER BY r.id LIMIT ?2`,
		Args: []any{store.Millis(before)},
		Keep: k,
		Deletes: []string{
			`DELETE FROM maintenance_compression WHERE run_id IN (%s)`,
			`DELETE FROM maintenance_runs WHERE id IN (%s)`,
		},
	})
}
