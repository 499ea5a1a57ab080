package capacity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/backend/redshift"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// UsageSource reads what Redshift Serverless itself records of compute use
// and queueing. Asking it sends SQL, which wakes an idle workgroup: the
// report uses it only when told to.
type UsageSource interface {
	// Usage returns per-minute use (SYS_SERVERLESS_USAGE) in [from, to).
	Usage(ctx context.Context, from, to time.Time) ([]UsageMinute, error)
	// Queueing sums queue time (SYS_QUERY_HISTORY) in [from, to).
	Queueing(ctx context.Context, from, to time.Time) (*Queueing, error)
}

// UsageMinute is one row of SYS_SERVERLESS_USAGE.
type UsageMinute struct {
	At                      time.Time
	Dur                     time.Duration
	Capacity                float64
	ComputeSeconds, Charged float64
}

// Warehouse is the UsageSource of a Redshift Serverless workgroup.
type Warehouse struct {
	c       *pgwire.Client
	timeout time.Duration
}

// NewWarehouse returns the usage source of the spec's workgroup; it
// connects on first use, as application dpcops-capacity.
func NewWarehouse(s *spec.Spec) (*Warehouse, error) {
	w := s.Warehouse
	if w.Engine != spec.EngineRedshiftServerless {
		return nil, errors.New("SYS_SERVERLESS_USAGE exists on Redshift Serverless only")
	}
	if !w.DSN.IsSet() {
		return nil, errors.New("reading SYS_SERVERLESS_USAGE needs warehouse.dsn")
	}
	return &Warehouse{c: pgwire.New(w.DSN.Reveal(), w.ConnectTimeout.D(), "dpcops-capacity"), timeout: w.StatementTimeout.D()}, nil
}

// Close closes the session.
func (w *Warehouse) Close() error { return w.c.Close() }

func (w *Warehouse) run(ctx context.Context, file string, from, to time.Time) (pgwire.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, w.timeout+5*time.Second)
	defer cancel()
	res, err := w.c.Run(ctx, []pgwire.Query{{Name: file, SQL: redshift.SQL(file), Args: []string{pgwire.Epoch(from), pgwire.Epoch(to)}, Timeout: w.timeout}})
	if err != nil {
		return pgwire.Result{}, err
	}
	return res[0], res[0].Err
}

// Usage reads SYS_SERVERLESS_USAGE.
func (w *Warehouse) Usage(ctx context.Context, from, to time.Time) ([]UsageMinute, error) {
	res, err := w.run(ctx, "capacity_usage", from, to)
	if err != nil {
		return nil, fmt.Errorf("read SYS_SERVERLESS_USAGE: %w", err)
	}
	out := make([]UsageMinute, 0, len(res.Rows))
	for _, row := range res.Rows {
		var u UsageMinute
		if u.At, err = row[0].Epoch(); err != nil {
			return nil, err
		}
		secs, _ := row[1].Float()
		u.Dur = time.Duration(secs * float64(time.Second))
		u.Capacity, _ = row[2].Float()
		u.ComputeSeconds, _ = row[3].Float()
		u.Charged, _ = row[4].Float()
		out = append(out, u)
	}
	return out, nil
}

// Queueing reads SYS_QUERY_HISTORY's queue times.
func (w *Warehouse) Queueing(ctx context.Context, from, to time.Time) (*Queueing, error) {
	res, err := w.run(ctx, "capacity_queue", from, to)
	if err != nil {
		return nil, fmt.Errorf("read SYS_QUERY_HISTORY queue times: %w", err)
	}
	row, err := pgwire.One(res)
	if err != nil {
		return nil, err
	}
	q := &Queueing{Source: "SYS_QUERY_HISTORY.queue_time"}
	q.Queries, _ = row[0].Int()
	q.Queued, _ = row[1].Int()
	q.QueueHours, _ = row[2].Float()
	q.QueueHours /= 3600
	q.MaxQueueSeconds, _ = row[3].Float()
	if q.Queries > 0 {
		q.QueuedPercent = round1(100 * float64(q.Queued) / float64(q.Queries))
	}
	return q, nil
}
