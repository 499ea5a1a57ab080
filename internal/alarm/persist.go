package alarm

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
)

// initialReason is the reason of an alarm that has never changed state,
// as CloudWatch words it.
const initialReason = "Unchecked: Initial alarm creation"

// errStale means the store holds a newer evaluation of the alarm than the
// engine remembered, as when another process shares the store.
var errStale = errors.New("the stored alarm state is newer than the engine's")

// load reads every alarm's state from the store, once.
func (e *Engine) load(ctx context.Context) error {
	if e.states != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	rows, err := e.o.Store.Reader().QueryContext(ctx, `SELECT alarm, state, episode, evaluated_at FROM alarm_state`)
	if err != nil {
		return fmt.Errorf("load alarm states: %w", err)
	}
	defer rows.Close()
	states := map[string]memState{}
	for rows.Next() {
		var name string
		var st memState
		if err := rows.Scan(&name, &st.state, &st.episode.n, &st.evaluatedAt); err != nil {
			return fmt.Errorf("load alarm states: %w", err)
		}
		st.episode.open = st.state == Alarm
		states[name] = st
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load alarm states: %w", err)
	}
	rows.Close()
	if err := e.loadOpenEpisodes(ctx, states); err != nil {
		return err
	}
	for _, c := range e.alarms {
		if _, ok := states[c.name]; !ok {
			states[c.name] = memState{state: InsufficientData}
		}
	}
	e.states = states
	return nil
}

// loadOpenEpisodes finds the alarms whose episode goes on through
// INSUFFICIENT_DATA: those that came to it from ALARM.
func (e *Engine) loadOpenEpisodes(ctx context.Context, states map[string]memState) error {
	for name, st := range states {
		if st.state != InsufficientData || st.episode.n == 0 {
			continue
		}
		var from State
		err := e.o.Store.Reader().QueryRowContext(ctx, `SELECT from_state FROM alarm_history
			WHERE alarm = ? AND to_state = ? ORDER BY at DESC, id DESC LIMIT 1`, name, InsufficientData).Scan(&from)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("load alarm states: %w", err)
		}
		st.episode.open = from == Alarm
		states[name] = st
	}
	return nil
}

// commit writes a transition: its history row, the alarm's new state and
// whatever OnTransition writes, in one transaction, if the stored state is
// still the one it moves from (compare-and-set). It sets tr.ID.
func (e *Engine) commit(ctx context.Context, tr *Transition) error {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	at := store.Millis(tr.Time)
	err := e.o.Store.WriteTx(ctx, func(tx *sql.Tx) error {
		// The compare-and-set holds the alarm's lock until commit, row or
		// no row yet: another writer's transition of the same alarm
		// commits before this reads the state, or waits until this one
		// has.
		if err := e.o.Store.LockTx(ctx, tx, StateLock(tr.Alarm)); err != nil {
			return err
		}
		var state State
		var evaluatedAt int64
		err := tx.QueryRowContext(ctx, `SELECT state, evaluated_at FROM alarm_state WHERE alarm = ?`, tr.Alarm).Scan(&state, &evaluatedAt)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			state = InsufficientData
		case err != nil:
			return err
		case evaluatedAt >= at || state != tr.From:
			return errStale
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO alarm_history (alarm, at, from_state, to_state, reason, reason_data, episode)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			tr.Alarm, at, tr.From, tr.To, tr.Reason, string(tr.ReasonData), tr.Episode).Scan(&tr.ID)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO alarm_state (alarm, state, reason, reason_data, episode, evaluated_at, changed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (alarm) DO UPDATE SET state = excluded.state, reason = excluded.reason,
				reason_data = excluded.reason_data, episode = excluded.episode,
				evaluated_at = excluded.evaluated_at, changed_at = excluded.changed_at`,
			tr.Alarm, tr.To, tr.Reason, string(tr.ReasonData), tr.Episode, at, at)
		if err != nil {
			return err
		}
		if e.o.OnTransition != nil {
			if err := e.o.OnTransition(ctx, tx, *tr); err != nil {
				return fmt.Errorf("on transition: %w", err)
			}
		}
		for _, h := range e.o.Hooks {
			if err := h.Fn(ctx, tx, *tr); err != nil {
				return fmt.Errorf("%s: %w", h.Name, err)
			}
		}
		return nil
	})
	if errors.Is(err, errStale) {
		// What we remembered is out of date: the round ends by forgetting
		// it, and the next one reloads the store's.
		e.stale = true
	}
	if err != nil {
		tr.ID = 0
		return fmt.Errorf("persist %s -> %s: %w", tr.From, tr.To, err)
	}
	e.states[tr.Alarm] = memState{state: tr.To, episode: e.states[tr.Alarm].episode.next(tr.To), evaluatedAt: at}
	return nil
}

// evaluated is an evaluation that left the state as it was.
type evaluated struct {
	alarm string
	at    int64
}

// markEvaluated records, in one transaction, the periods evaluated
// without a transition, so that a restart does not evaluate them again.
// An alarm seen for the first time gets its row, in INSUFFICIENT_DATA.
func (e *Engine) markEvaluated(ctx context.Context, evs []evaluated) error {
	if len(evs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	err := e.o.Store.WriteTx(ctx, func(tx *sql.Tx) error {
		stmt, err := e.o.Store.PrepareTx(ctx, tx, `INSERT INTO alarm_state (alarm, state, reason, evaluated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (alarm) DO UPDATE SET evaluated_at = CASE WHEN alarm_state.evaluated_at > excluded.evaluated_at
				THEN alarm_state.evaluated_at ELSE excluded.evaluated_at END`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, ev := range evs {
			if _, err := stmt.ExecContext(ctx, ev.alarm, InsufficientData, initialReason, ev.at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record alarm evaluations: %w", err)
	}
	for _, ev := range evs {
		st := e.states[ev.alarm]
		st.evaluatedAt = max(st.evaluatedAt, ev.at)
		e.states[ev.alarm] = st
	}
	return nil
}

// Status is an alarm's current state, for the UI and the API.
type Status struct {
	Alarm   string
	Enabled bool
	State   State
	// Reason and ReasonData are those of the last transition.
	Reason     string
	ReasonData json.RawMessage
	// Episode counts the alarm's entries into ALARM.
	Episode int64
	// EvaluatedAt is the end of the last period evaluated, ChangedAt the
	// time of the last transition; zero for never.
	EvaluatedAt time.Time
	ChangedAt   time.Time
	// LastError is the last evaluation's error, "" if it succeeded.
	LastError string
}

// States returns the state of every spec alarm, in the spec's order. An
// alarm never evaluated is INSUFFICIENT_DATA.
func (e *Engine) States(ctx context.Context) ([]Status, error) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	rows, err := e.o.Store.Reader().QueryContext(ctx, `SELECT alarm, state, reason, reason_data, episode, evaluated_at, changed_at FROM alarm_state`)
	if err != nil {
		return nil, fmt.Errorf("alarm states: %w", err)
	}
	defer rows.Close()
	stored := map[string]Status{}
	for rows.Next() {
		var s Status
		var data string
		var evaluatedAt, changedAt int64
		if err := rows.Scan(&s.Alarm, &s.State, &s.Reason, &data, &s.Episode, &evaluatedAt, &changedAt); err != nil {
			return nil, fmt.Errorf("alarm states: %w", err)
		}
		s.ReasonData = json.RawMessage(data)
		s.EvaluatedAt, s.ChangedAt = fromMillis(evaluatedAt), fromMillis(changedAt)
		stored[s.Alarm] = s
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alarm states: %w", err)
	}
	out := make([]Status, 0, len(e.o.Spec.Alarms))
	for _, a := range e.o.Spec.Alarms {
		s, ok := stored[a.Name]
		if !ok {
			s = Status{Alarm: a.Name, State: InsufficientData, Reason: initialReason, ReasonData: json.RawMessage("{}")}
		}
		s.Enabled = a.Enabled.On()
		s.LastError = e.lastError(a.Name)
		out = append(out, s)
	}
	return out, nil
}

// History returns an alarm's transitions, newest first, at most limit
// (100 when limit ≤ 0); alarm "" returns those of every alarm.
func (e *Engine) History(ctx context.Context, alarm string, limit int) ([]Transition, error) {
	if limit <= 0 {
		limit = 100
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	rows, err := e.o.Store.Reader().QueryContext(ctx, `SELECT id, alarm, at, from_state, to_state, reason, reason_data, episode
		FROM alarm_history WHERE ? = '' OR alarm = ? ORDER BY at DESC, id DESC LIMIT ?`, alarm, alarm, limit)
	if err != nil {
		return nil, fmt.Errorf("alarm history: %w", err)
	}
	defer rows.Close()
	var out []Transition
	for rows.Next() {
		var t Transition
		var at int64
		var data string
		if err := rows.Scan(&t.ID, &t.Alarm, &at, &t.From, &t.To, &t.Reason, &data, &t.Episode); err != nil {
			return nil, fmt.Errorf("alarm history: %w", err)
		}
		t.Time, t.ReasonData = store.FromMillis(at), json.RawMessage(data)
		out = append(out, t)
	}
	return out, rows.Err()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return store.FromMillis(ms)
}

// PruneHistory deletes the transitions recorded before before, in
// batches, except those still needed:
//   - each alarm's latest transition, the entry into its current state (a
//     restart reads it to know whether an episode goes on through
//     INSUFFICIENT_DATA);
//   - a transition a delivery still refers to (outbox.transition_id is a
//     foreign key; notify prunes its deliveries first);
//   - a transition keep spares: one on a kept incident's timeline.
func PruneHistory(ctx context.Context, st *store.Store, before time.Time, keep func(alarm string, at time.Time) bool) (store.Pruned, error) {
	return st.PruneRows(ctx, store.Pruning{
		Table: "alarm_history",
		// An alarm's transitions have increasing times (commit refuses
		// one not after the last evaluation), so "a later one exists"
		// is one step of the (alarm, at) index.
		Candidates: `SELECT h.id, h.alarm, h.at FROM alarm_history h
			WHERE h.id > ?1 AND h.at < ?3
			AND h.id < (SELECT max(id) FROM alarm_history)
			AND EXISTS (SELECT 1 FROM alarm_history n WHERE n.alarm = h.alarm AND n.at > h.at)
			AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.transition_id = h.id)
			ORDER BY h.id LIMIT ?2`,
		Args:    []any{store.Millis(before)},
		Keep:    keep,
		Deletes: []string{`DELETE FROM alarm_history WHERE id IN (%s)`},
	})
}
