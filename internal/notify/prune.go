package notify

import (
	"context"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
)

// Prune deletes, in batches, the finished deliveries (sent, failed or
// expired) whose last activity (creation, retry, attempt or send) is
// before before. It keeps:
//   - every pending or sending delivery, whatever its age;
//   - the deliveries of an episode still open on some channel (in
//     notify_open): the repeat schedule counts from its last trigger or
//     repeat;
//   - a delivery the inbox refers to (inbox.outbox_id is a foreign key:
//     the inbox is pruned first, with the same retention);
//   - a delivery keep spares, given its transition's alarm and time: one
//     on a kept incident's timeline.
//
// The newest delivery stays too, so that SQLite never hands its id to a
// new one: receivers see delivery ids (X-Dpcops-Delivery, SNS
// deduplication, e-mail Message-ID).
//
// notify_open needs no retention: it holds only the episodes told and not
// yet resolved, and each resolve deletes its rows.
func Prune(ctx context.Context, st *store.Store, before time.Time, keep func(alarm string, at time.Time) bool) (store.Pruned, error) {
	return st.PruneRows(ctx, store.Pruning{
		Table: "outbox",
		// The transition's alarm and time come from alarm_history
		// through the foreign key; deliveries of no transition (repeats,
		// query rules, tests) get '' and are never held.
		Candidates: `SELECT o.id, coalesce(h.alarm, ''), coalesce(h.at, 0) FROM outbox o
			LEFT JOIN alarm_history h ON h.id = o.transition_id
			WHERE o.id > ?1 AND (o.state || '') IN ('sent', 'failed', 'expired')
			AND o.created_at < ?3 AND coalesce(o.claimed_at, 0) < ?3 AND coalesce(o.sent_at, 0) < ?3
			AND o.id < (SELECT max(id) FROM outbox)
			AND NOT EXISTS (SELECT 1 FROM notify_open n WHERE n.alarm = o.alarm AND n.dedup_key = o.dedup_key)
			AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.outbox_id = o.id)
			ORDER BY o.id LIMIT ?2`,
		Args:    []any{store.Millis(before)},
		Keep:    keep,
		Deletes: []string{`DELETE FROM outbox WHERE id IN (%s)`},
	})
}

// PruneSilences deletes, in batches, the held notifications settled
// before before (their incident's timeline spared by keep), then the
// silences that ended before before and hold nothing. The newest of each
// stays, so that SQLite never hands its id to a new one (silence ids are
// in messages and links).
func PruneSilences(ctx context.Context, st *store.Store, before time.Time, keep func(alarm string, at time.Time) bool) (store.Pruned, error) {
	held, err := st.PruneRows(ctx, store.Pruning{
		Table: "held",
		Candidates: `SELECT h.id, coalesce(a.alarm, ''), coalesce(a.at, 0) FROM held h
			LEFT JOIN alarm_history a ON a.id = h.transition_id
			WHERE h.id > ?1 AND h.released_at < ?3 AND h.id < (SELECT max(id) FROM held)
			ORDER BY h.id LIMIT ?2`,
		Args:    []any{store.Millis(before)},
		Keep:    keep,
		Deletes: []string{`DELETE FROM held WHERE id IN (%s)`},
	})
	if err != nil {
		return held, err
	}
	silences, err := st.PruneRows(ctx, store.Pruning{
		Table: "silences",
		Candidates: `SELECT s.id, '', 0 FROM silences s
			WHERE s.id > ?1 AND (s.ends_at < ?3 OR coalesce(s.expired_at, ?3) < ?3) AND s.id < (SELECT max(id) FROM silences)
			AND NOT EXISTS (SELECT 1 FROM held h WHERE h.silence_id = s.id)
			ORDER BY s.id LIMIT ?2`,
		Args:    []any{store.Millis(before)},
		Deletes: []string{`DELETE FROM silences WHERE id IN (%s)`},
	})
	return store.Pruned{Rows: held.Rows + silences.Rows, Batches: held.Batches + silences.Batches}, err
}
