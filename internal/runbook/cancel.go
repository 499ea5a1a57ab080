package runbook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dpc-learning/dpcops/internal/qmr"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// ErrNoQuery is returned for a query that is not running (any more).
var ErrNoQuery = errors.New("no such running query")

// CancelQuery cancels the running query with the given id (the pid on
// PostgreSQL, the query_id on Redshift) and returns it. A query that ends
// before the cancel reaches it is ErrNoQuery, not a failure.
func CancelQuery(ctx context.Context, src qmr.Source, id int64) (qmr.Query, error) {
	running, err := src.Running(ctx)
	if err != nil {
		return qmr.Query{}, err
	}
	for _, q := range running {
		if q.ID != id {
			continue
		}
		found, err := src.Cancel(ctx, q)
		if err != nil {
			return q, fmt.Errorf("cancel query %d: %w", id, err)
		}
		if !found {
			return q, fmt.Errorf("%w: query %d ended before the cancel reached it", ErrNoQuery, id)
		}
		return q, nil
	}
	return qmr.Query{}, fmt.Errorf("%w: %d", ErrNoQuery, id)
}

// RecordCancel puts a cancelled query on the open incidents of the alarms
// that watch compute in use (the runbook's answer to an RPU spike).
func RecordCancel(ctx context.Context, in *Incidents, s *spec.Spec, q qmr.Query, at time.Time) {
	text := fmt.Sprintf("cancelled query %d of %s: %s", q.ID, orUnknown(q.User), oneLine(q.Text, 120))
	for _, a := range s.Alarms {
		if m, ok := s.Metric(a.Metric); ok && m.Source == "compute_capacity" {
			in.RecordAction(ctx, a.Name, at, text, q)
		}
	}
}
