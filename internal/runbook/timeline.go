package runbook

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/maintain"
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/qmr"
	"github.com/dpc-learning/dpcops/internal/spec"
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
// read from the tables each part of dpcops keeps, through the functions of
// the package that owns each, so it is never out of step with them.
func (in *Incidents) Timeline(ctx context.Context, inc Incident, now time.Time) ([]Event, error) {
	end := now
	if inc.Closed != nil {
		end = *inc.Closed
	}
	db := in.store.Reader()
	var evs []Event
	ids, err := transitions(ctx, db, inc.Alarm, inc.Opened, end, &evs)
	if err != nil {
		return nil, err
	}
	if err := deliveries(ctx, db, ids, &evs); err != nil {
		return nil, err
	}
	if err := incidentEvents(ctx, db, inc.ID, &evs); err != nil {
		return nil, err
	}
	if err := maintenanceRuns(ctx, db, inc.Opened, end, &evs); err != nil {
		return nil, err
	}
	if err := queryRuleActions(ctx, db, inc.Opened, end, &evs); err != nil {
		return nil, err
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	return evs, nil
}

// transitions adds the alarm's transitions in [from, to] and returns
// their ids.
func transitions(ctx context.Context, db store.Querier, alarmName string, from, to time.Time, evs *[]Event) ([]int64, error) {
	ts, err := alarm.TransitionsBetween(ctx, db, alarmName, from, to)
	if err != nil {
		return nil, fmt.Errorf("incident transitions: %w", err)
	}
	ids := make([]int64, 0, len(ts))
	for _, t := range ts {
		ids = append(ids, t.ID)
		*evs = append(*evs, Event{Time: t.Time, Kind: "transition", Text: string(t.From) + " → " + string(t.To), Detail: t.Reason})
	}
	return ids, nil
}

// deliveries adds the deliveries the transitions owed, at the time each
// was sent, or created if it never was.
func deliveries(ctx context.Context, db store.Querier, transitions []int64, evs *[]Event) error {
	recs, err := notify.DeliveriesOf(ctx, db, transitions)
	if err != nil {
		return fmt.Errorf("incident notifications: %w", err)
	}
	for _, r := range recs {
		at := r.Created
		if !r.Sent.IsZero() {
			at = r.Sent
		}
		text := fmt.Sprintf("%s %s: %s", r.Channel, r.Kind, r.State)
		if r.Attempts > 1 {
			text += fmt.Sprintf(" after %d attempts", r.Attempts)
		}
		*evs = append(*evs, Event{Time: at, Kind: "notification", Text: text, Detail: r.LastError})
	}
	return nil
}

// incidentEvents adds the incident's notes and actions.
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

// maintenanceRuns adds the maintenance runs started in [from, to] that
// bear on an incident: those that did not simply succeed (failed,
// cancelled, still running), and VACUUM FULL, whose locks and compute an
// incident may owe to. The routine ANALYZE and VACUUM that went through
// are left out: they say nothing about it.
func maintenanceRuns(ctx context.Context, db store.Querier, from, to time.Time, evs *[]Event) error {
	runs, err := maintain.RunsBetween(ctx, db, from, to)
	if err != nil {
		return fmt.Errorf("incident maintenance: %w", err)
	}
	for _, r := range runs {
		routine := (r.Outcome == maintain.OutcomeSucceeded || r.Outcome == maintain.OutcomeSkipped) && r.Action != spec.ActionVacuumFull
		if routine {
			continue
		}
		text := fmt.Sprintf("%s %s %s: %s", r.Job, r.Action, r.Target, r.Outcome)
		*evs = append(*evs, Event{Time: r.StartedAt, Kind: "maintenance", Text: strings.Join(strings.Fields(text), " "), Detail: r.Error})
	}
	return nil
}

// queryRuleActions adds what query monitoring did in [from, to]: the
// queries it logged, notified or cancelled (an RPU spike often ends so).
// A query that ended before the rule could act is left out.
func queryRuleActions(ctx context.Context, db store.Querier, from, to time.Time, evs *[]Event) error {
	acts, err := qmr.ActionsBetween(ctx, db, from, to)
	if err != nil {
		return fmt.Errorf("incident query monitoring: %w", err)
	}
	for _, a := range acts {
		if a.Outcome == qmr.OutcomeGone {
			continue
		}
		text := fmt.Sprintf("query rule %s: %s query %d of %s (%s %.0f s > %.0f s): %s", a.Rule, a.Action, a.Query.ID,
			a.Query.User, a.Metric, a.Value, a.Threshold, a.Outcome)
		*evs = append(*evs, Event{Time: a.At, Kind: "action", Text: text, Detail: a.Error})
	}
	return nil
}
