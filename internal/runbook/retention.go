package runbook

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
)

// Prune deletes the incidents closed before before, with their notes and
// actions (incident_events). An open incident stays whatever its age. It
// runs before the other prunes, whose Holds come from the incidents left.
func (in *Incidents) Prune(ctx context.Context, before time.Time) (store.Pruned, error) {
	return in.store.PruneRows(ctx, store.Pruning{
		Table: "incidents",
		// The newest incident stays, so that its id is never handed to
		// a new one (ids are in links and exports).
		Candidates: `SELECT id, '', 0 FROM incidents WHERE id > ?1 AND closed_at IS NOT NULL AND closed_at < ?3
			AND id < (SELECT max(id) FROM incidents) ORDER BY id LIMIT ?2`,
		Args: []any{store.Millis(before)},
		Deletes: []string{
			`DELETE FROM incident_events WHERE incident_id IN (%s)`,
			`DELETE FROM incidents WHERE id IN (%s)`,
		},
	})
}

// Holds are the time windows of the incidents in the store, open ones
// reaching into the future. An incident's timeline (Timeline) reads its
// alarm's transitions in its window, the deliveries those transitions
// owed, and every maintenance run started in it; incidents are kept longer
// than those records, so their prunes spare what a window covers, and an
// old incident still exports whole.
type Holds struct {
	byAlarm map[string][]window
	all     []window
}

// window is a closed interval of Unix milliseconds.
type window struct{ from, to int64 }

// Holds reads the windows of the incidents in the store.
func (in *Incidents) Holds(ctx context.Context) (*Holds, error) {
	rows, err := in.store.Reader().QueryContext(ctx, `SELECT alarm, opened_at, coalesce(closed_at, ?) FROM incidents`, int64(math.MaxInt64))
	if err != nil {
		return nil, fmt.Errorf("incident windows: %w", err)
	}
	defer rows.Close()
	h := &Holds{byAlarm: map[string][]window{}}
	for rows.Next() {
		var alarmName string
		var w window
		if err := rows.Scan(&alarmName, &w.from, &w.to); err != nil {
			return nil, fmt.Errorf("incident windows: %w", err)
		}
		h.byAlarm[alarmName] = append(h.byAlarm[alarmName], w)
		h.all = append(h.all, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incident windows: %w", err)
	}
	for a, ws := range h.byAlarm {
		h.byAlarm[a] = merge(ws)
	}
	h.all = merge(h.all)
	return h, nil
}

// Transition reports whether a kept incident's timeline reads the
// transition of alarmName at at (and the deliveries it owed).
func (h *Holds) Transition(alarmName string, at time.Time) bool {
	return covers(h.byAlarm[alarmName], store.Millis(at))
}

// During reports whether at falls in any kept incident's window: a
// maintenance run started then is on that incident's timeline.
func (h *Holds) During(at time.Time) bool {
	return covers(h.all, store.Millis(at))
}

// merge sorts windows and joins those that overlap, so that covers can
// search them.
func merge(ws []window) []window {
	sort.Slice(ws, func(i, j int) bool { return ws[i].from < ws[j].from })
	var out []window
	for _, w := range ws {
		if n := len(out); n > 0 && w.from <= out[n-1].to {
			out[n-1].to = max(out[n-1].to, w.to)
			continue
		}
		out = append(out, w)
	}
	return out
}

// covers reports whether sorted, disjoint windows hold at.
func covers(ws []window, at int64) bool {
	i := sort.Search(len(ws), func(i int) bool { return ws[i].to >= at })
	return i < len(ws) && ws[i].from <= at
}
