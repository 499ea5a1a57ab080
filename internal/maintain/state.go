package maintain

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
)

// jobState is what the scheduler remembers of a job across restarts.
type jobState struct {
	// LastDue is the latest scheduled firing handled (run or missed).
	LastDue time.Time
	// LastEvent is the latest pipeline success handled.
	LastEvent time.Time
	// LastCheck is when a condition-only job was last checked.
	LastCheck time.Time
	// LastRunAt and LastTrigger say when and why the job last ran.
	LastRunAt   time.Time
	LastTrigger string
}

func fromMillisOrZero(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return store.FromMillis(ms)
}

func millisOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return store.Millis(t)
}

// loadStates reads every job's state.
func loadStates(ctx context.Context, st *store.Store) (map[string]jobState, error) {
	rows, err := st.Reader().QueryContext(ctx, `SELECT job, last_due, last_event, last_check, last_run_at, last_trigger FROM maintenance_schedule`)
	if err != nil {
		return nil, fmt.Errorf("read maintenance schedule state: %w", err)
	}
	defer rows.Close()
	out := map[string]jobState{}
	for rows.Next() {
		var job, trigger string
		var due, event, check, ran int64
		if err := rows.Scan(&job, &due, &event, &check, &ran, &trigger); err != nil {
			return nil, err
		}
		out[job] = jobState{LastDue: fromMillisOrZero(due), LastEvent: fromMillisOrZero(event),
			LastCheck: fromMillisOrZero(check), LastRunAt: fromMillisOrZero(ran), LastTrigger: trigger}
	}
	return out, rows.Err()
}

// saveState writes one job's state.
func saveState(ctx context.Context, st *store.Store, job string, s jobState) error {
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO maintenance_schedule (job, last_due, last_event, last_check, last_run_at, last_trigger)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (job) DO UPDATE SET last_due = excluded.last_due, last_event = excluded.last_event,
				last_check = excluded.last_check, last_run_at = excluded.last_run_at, last_trigger = excluded.last_trigger`,
			job, millisOrZero(s.LastDue), millisOrZero(s.LastEvent), millisOrZero(s.LastCheck), millisOrZero(s.LastRunAt), s.LastTrigger)
		return err
	})
	if err != nil {
		return fmt.Errorf("save schedule state of job %s: %w", job, err)
	}
	return nil
}
