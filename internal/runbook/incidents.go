package runbook

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// Incident is one alarm episode: opened when the alarm entered ALARM,
// closed when it returned to OK.
type Incident struct {
	ID       int64      `json:"id"`
	Alarm    string     `json:"alarm"`
	Episode  int64      `json:"episode"`
	Title    string     `json:"title"`
	Severity string     `json:"severity"`
	Opened   time.Time  `json:"opened_at"`
	Closed   *time.Time `json:"closed_at,omitempty"`
}

// Open reports whether the incident is still open.
func (i Incident) Open() bool { return i.Closed == nil }

// ErrNoIncident is returned for an unknown incident id.
var ErrNoIncident = errors.New("no such incident")

// Incidents keeps the incident records in the store.
type Incidents struct {
	spec  *spec.Spec
	store *store.Store
}

// NewIncidents returns the incident records of a store.
func NewIncidents(s *spec.Spec, st *store.Store) *Incidents {
	return &Incidents{spec: s, store: st}
}

// OnTransition opens an incident when an alarm enters ALARM and closes it
// when the alarm returns to OK. It runs inside the transaction that
// records the transition (alarm.Options.OnTransition), so an incident
// exists exactly when its transition does.
func (in *Incidents) OnTransition(ctx context.Context, tx *sql.Tx, t alarm.Transition) error {
	switch t.To {
	case alarm.Alarm:
		a, _ := in.spec.Alarm(t.Alarm)
		title, severity := t.Alarm, ""
		if a != nil {
			severity = a.Severity
			if a.Description != "" {
				title = t.Alarm + ": " + a.Description
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO incidents (alarm, episode, title, severity, opened_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (alarm, episode) DO NOTHING`,
			t.Alarm, t.Episode, title, severity, store.Millis(t.Time))
		return err
	case alarm.OK:
		_, err := tx.ExecContext(ctx, `UPDATE incidents SET closed_at = ? WHERE alarm = ? AND closed_at IS NULL`,
			store.Millis(t.Time), t.Alarm)
		return err
	}
	return nil
}

// Event kinds of the incident_events table.
const (
	EventNote   = "note"
	EventAction = "action"
)

// Note adds a note to an incident's timeline.
func (in *Incidents) Note(ctx context.Context, id int64, at time.Time, text string) error {
	if text == "" {
		return errors.New("a note needs text")
	}
	if _, err := in.Get(ctx, id); err != nil {
		return err
	}
	return in.store.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO incident_events (incident_id, at, kind, text) VALUES (?, ?, ?, ?)`,
			id, store.Millis(at), EventNote, text)
		return err
	})
}

// RecordAction adds an action (a re-run, a cancelled query) to the open
// incident of an alarm, if there is one; it returns the incident's id or
// 0.
func (in *Incidents) RecordAction(ctx context.Context, alarmName string, at time.Time, text string, data any) (int64, error) {
	var id int64
	err := in.store.WriteTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id FROM incidents WHERE alarm = ? AND closed_at IS NULL ORDER BY episode DESC LIMIT 1`, alarmName).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			id = 0
			return nil
		}
		if err != nil {
			return err
		}
		return insertEvent(ctx, tx, id, at, EventAction, text, data)
	})
	return id, err
}

// ClaimAction records an action for an alarm episode unless one with the
// same text was recorded already: what makes an automatic action run once
// per episode. It reports whether the caller should act.
func (in *Incidents) ClaimAction(ctx context.Context, alarmName string, episode int64, at time.Time, text string) (bool, error) {
	claimed := false
	err := in.store.WriteTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM incidents WHERE alarm = ? AND episode = ?`, alarmName, episode).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // no incident: the episode is not ours to act on
		}
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM incident_events WHERE incident_id = ? AND kind = ? AND text = ?`,
			id, EventAction, text).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		claimed = true
		return insertEvent(ctx, tx, id, at, EventAction, text, nil)
	})
	if store.UniqueViolation(err) {
		// Another writer claimed it between the count and the insert:
		// the database's rule (a unique index), whoever counted what.
		return false, nil
	}
	return claimed && err == nil, err
}

func insertEvent(ctx context.Context, tx *sql.Tx, id int64, at time.Time, kind, text string, data any) error {
	b := []byte("{}")
	if data != nil {
		var err error
		if b, err = json.Marshal(data); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO incident_events (incident_id, at, kind, text, data) VALUES (?, ?, ?, ?, ?)`,
		id, store.Millis(at), kind, text, string(b))
	return err
}

// List returns the newest incidents first.
func (in *Incidents) List(ctx context.Context, limit int) ([]Incident, error) {
	rows, err := in.store.Reader().QueryContext(ctx, `SELECT id, alarm, episode, title, severity, opened_at, closed_at
		FROM incidents ORDER BY opened_at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("incidents: %w", err)
	}
	defer rows.Close()
	var out []Incident
	for rows.Next() {
		i, err := scanIncident(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// Get returns one incident.
func (in *Incidents) Get(ctx context.Context, id int64) (Incident, error) {
	row := in.store.Reader().QueryRowContext(ctx, `SELECT id, alarm, episode, title, severity, opened_at, closed_at
		FROM incidents WHERE id = ?`, id)
	i, err := scanIncident(row)
	if errors.Is(err, sql.ErrNoRows) {
		return i, fmt.Errorf("%w: %d", ErrNoIncident, id)
	}
	return i, err
}

type scanner interface{ Scan(...any) error }

func scanIncident(s scanner) (Incident, error) {
	var i Incident
	var opened int64
	var closed sql.NullInt64
	if err := s.Scan(&i.ID, &i.Alarm, &i.Episode, &i.Title, &i.Severity, &opened, &closed); err != nil {
		return i, err
	}
	i.Opened = store.FromMillis(opened)
	if closed.Valid {
		t := store.FromMillis(closed.Int64)
		i.Closed = &t
	}
	return i, nil
}
