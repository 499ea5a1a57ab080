package notify

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
)

// Failing counts the deliveries that are not getting through: those that
// failed or expired in the hour before now, those still retrying after
// attempts attempts, and those due five minutes ago or more and never
// attempted (a worker that does not run). It is the reading of the self_deliveries_failing
// source, which pages when notifications stop reaching people.
func Failing(ctx context.Context, db *sql.DB, now time.Time, attempts int) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM outbox
		WHERE (state = 'failed' AND coalesce(claimed_at, created_at) >= ?1)
		   OR (state = 'expired' AND next_attempt_at >= ?1)
		   OR (state IN ('pending', 'sending') AND attempts >= ?2)
		   OR (state = 'pending' AND attempts = 0 AND next_attempt_at < ?3)`,
		store.Millis(now.Add(-time.Hour)), attempts, store.Millis(now.Add(-5*time.Minute))).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count failing deliveries: %w", err)
	}
	return n, nil
}

// URLSecrets lists what must be scrubbed from errors about a request to a
// secret URL (a heartbeat's, say): the URL and its significant parts.
func URLSecrets(u string) []string { return secretParts(u) }
