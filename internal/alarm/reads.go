package alarm

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// The functions here are how other packages read alarm_state and
// alarm_history, which this package owns (see the store's doc): each takes
// a store.Querier, so that a caller can read inside its own transaction.

// StateIn returns the stored state of the alarm name, read through q, and
// false when the alarm has never been evaluated. Enabled and LastError are
// left zero: they are the spec's and the engine's, not the store's.
//
// notify calls it with the transaction that enqueues a repeat, so that the
// repeat is decided on the state that transaction sees and is never
// enqueued after the resolve of its episode (which would reopen the
// incident).
func StateIn(ctx context.Context, q store.Querier, name string) (Status, bool, error) {
	s := Status{Alarm: name}
	var data string
	var evaluatedAt, changedAt int64
	err := q.QueryRowContext(ctx, `SELECT state, reason, reason_data, episode, evaluated_at, changed_at FROM alarm_state WHERE alarm = ?`, name).
		Scan(&s.State, &s.Reason, &data, &s.Episode, &evaluatedAt, &changedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Status{}, false, nil
	}
	if err != nil {
		return Status{}, false, fmt.Errorf("state of %s: %w", name, err)
	}
	s.ReasonData = json.RawMessage(data)
	s.EvaluatedAt, s.ChangedAt = fromMillis(evaluatedAt), fromMillis(changedAt)
	return s, true, nil
}

// TransitionsBetween returns the transitions of the alarm name with from ≤
// time ≤ to, in time order (id order within one time).
//
// runbook calls it to build an incident's timeline, whose window holds the
// alarm's transitions; the ids it returns lead to the deliveries each
// transition owed (notify.DeliveriesOf).
func TransitionsBetween(ctx context.Context, q store.Querier, name string, from, to time.Time) ([]Transition, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, at, from_state, to_state, reason, reason_data, episode FROM alarm_history
		WHERE alarm = ? AND at >= ? AND at <= ? ORDER BY at, id`, name, store.Millis(from), store.Millis(to))
	if err != nil {
		return nil, fmt.Errorf("transitions of %s: %w", name, err)
	}
	defer rows.Close()
	var out []Transition
	for rows.Next() {
		t := Transition{Alarm: name}
		var at int64
		var data string
		if err := rows.Scan(&t.ID, &at, &t.From, &t.To, &t.Reason, &data, &t.Episode); err != nil {
			return nil, fmt.Errorf("transitions of %s: %w", name, err)
		}
		t.Time, t.ReasonData = store.FromMillis(at), json.RawMessage(data)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("transitions of %s: %w", name, err)
	}
	return out, nil
}

// EntriesIntoAlarm returns the ids of the transitions into ALARM of the
// alarm name in episode: one, or more when the episode went on through
// INSUFFICIENT_DATA and back.
//
// notify.Waiting calls it to find the deliveries that page for an
// episode, which runbook's actions wait for before they act.
func EntriesIntoAlarm(ctx context.Context, q store.Querier, name string, episode int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT id FROM alarm_history WHERE alarm = ? AND episode = ? AND to_state = ? ORDER BY id`,
		name, episode, Alarm)
	if err != nil {
		return nil, fmt.Errorf("entries of %s into ALARM: %w", name, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("entries of %s into ALARM: %w", name, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("entries of %s into ALARM: %w", name, err)
	}
	return ids, nil
}

// StateLock is the name of the transaction lock (store.LockTx) that a
// write deciding on the alarm's state holds: the engine's compare-and-set,
// and notify's repeat, which must not be enqueued after a resolve that
// commits beside it.
func StateLock(name string) string { return "alarm:" + name }

// Values computes an alarm's value in each of n consecutive periods as
// the engine does (the metric's statistic, or the expression over its
// inputs with sparse counts in divisors filled), from the per-period
// statistics of its inputs, which read returns (n values each, NaN where a
// period has none). It returns the inputs read, in the order the
// expression names them.
//
// The web UI calls it to chart what an expression alarm compares with its
// threshold.
func Values(s *spec.Spec, a *spec.Alarm, n int, read func(Input) ([]float64, error)) ([]float64, []Input, error) {
	c, err := compile(indexMetrics(s), a)
	if err != nil {
		return nil, nil, err
	}
	in := make([][]float64, len(c.inputs))
	for i, inp := range c.inputs {
		if in[i], err = read(inp); err != nil {
			return nil, nil, err
		}
		if len(in[i]) != n {
			return nil, nil, fmt.Errorf("alarm %s: %d periods of %s, want %d", a.Name, len(in[i]), inp.Metric, n)
		}
	}
	out, err := c.values(in, n)
	return out, c.inputs, err
}
