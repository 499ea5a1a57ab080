package runbook

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
)

// Event is one line of an incident's timeline.
type Event struct {
	Time time.Time `json:"time"`
	// Kind is transition, notification, action, note or maintenance.
	Kind   string `json:"kind"`
	Text   string `json:"text"`
	Detail string `json:"detail,omitempty"`
}

// Timeline gathers what happened during an incident, in time order: the
// alarm's transitions, the notifications they owed and how each delivery
// went, the actions taken, the maintenance that ran, and the notes. It is
// read from the tables each part of dpcops keeps, so it is never out of
// step with them.
func (in *Incidents) Timeline(ctx context.Context, inc Incident, now time.Time) ([]Event, error) {
	end := now
	if inc.Closed != nil {
		end = *inc.Closed
	}
	from, to := store.Millis(inc.Opened), store.Millis(end)
	db := in.store.Reader()
	var evs []Event
	ids, err := in.transitions(ctx, db, inc.Alarm, from, to, &evs)
	if err != nil {
		return nil, err
	}
	if err := deliveries(ctx, db, ids, &evs); err != nil {
		return nil, err
	}
	if err := incidentEvents(ctx, db, inc.ID, &evs); err != nil {
		return nil, err
	}
	if err := maintenanceRuns(ctx, db, from, to, &evs); err != nil {
		return nil, err
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	return evs, nil
}

func (in *Incidents) transitions(ctx context.Context, db *sql.DB, alarmName string, from, to int64, evs *[]Event) ([]int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, at, from_state, to_state, reason FROM alarm_history
		WHERE alarm = ? AND at >= ? AND at <= ? ORDER BY at, id`, alarmName, from, to)
	if err != nil {
		return nil, fmt.Errorf("incident transitions: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id, at int64
		var fromState, toState, reason string
		if err := rows.Scan(&id, &at, &fromState, &toState, &reason); err != nil {
			return nil, err
		}
		ids = append(ids, id)
		*evs = append(*evs, Event{Time: store.FromMillis(at), Kind: "transition", Text: fromState + " → " + toState, Detail: reason})
	}
	return ids, rows.Err()
}

func deliveries(ctx context.Context, db *sql.DB, transitions []int64, evs *[]Event) error {
	if len(transitions) == 0 {
		return nil
	}
	args := make([]any, len(transitions))
	for i, id := range transitions {
		args[i] = id
	}
	q := `SELECT channel, kind, state, attempts, created_at, coalesce(sent_at, 0), last_error FROM outbox
		WHERE transition_id IN (?` + strings.Repeat(", ?", len(args)-1) + `) ORDER BY created_at, id`
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("incident notifications: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var channel, kind, state, lastErr string
		var attempts int
		var created, sent int64
		if err := rows.Scan(&channel, &kind, &state, &attempts, &created, &sent, &lastErr); err != nil {
			return err
		}
		at := created
		if sent > 0 {
			at = sent
		}
		text := fmt.Sprintf("%s %s: %s", channel, kind, state)
		if attempts > 1 {
			text += fmt.Sprintf(" after %d attempts", attempts)
		}
		*evs = append(*evs, Event{Time: store.FromMillis(at), Kind: "notification", Text: text, Detail: lastErr})
	}
	return rows.Err()
}

func incidentEvents(ctx context.Context, db *sql.DB, id int64, evs *[]Event) error {
	rows, err := db.QueryContext(ctx, `SELECT at, kind, text FROM incident_events WHERE incident_id = ? ORDER BY at, id`, id)
	if err != nil {
		return fmt.Errorf("incident events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var at int64
		var e Event
		if err := rows.Scan(&at, &e.Kind, &e.Text); err != nil {
			return err
		}
		e.Time = store.FromMillis(at)
		*evs = append(*evs, e)
	}
	return rows.Err()
}

func maintenanceRuns(ctx context.Context, db *sql.DB, from, to int64, evs *[]Event) error {
	rows, err := db.QueryContext(ctx, `SELECT started_at, job, action, target, outcome, error FROM maintenance_runs
		WHERE started_at >= ? AND started_at <= ? ORDER BY started_at, id`, from, to)
	if err != nil {
		return fmt.Errorf("incident maintenance: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var at int64
		var job, action, target, outcome, errText string
		if err := rows.Scan(&at, &job, &action, &target, &outcome, &errText); err != nil {
			return err
		}
		text := fmt.Sprintf("%s %s %s: %s", job, action, target, outcome)
		*evs = append(*evs, Event{Time: store.FromMillis(at), Kind: "maintenance", Text: strings.Join(strings.Fields(text), " "), Detail: errText})
	}
	return rows.Err()
}
