package lease

import (
	"context"
	"log/slog"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// Backends are the connections a manager built by Open may share with the
// rest of dpcops; any may be nil.
type Backends struct {
	// Warehouse reads ops.pipeline_runs (pipeline.kind: ledger).
	Warehouse backend.Warehouse
	// SFN lists the state machine's executions (pipeline.kind:
	// stepfunctions).
	SFN Executions
	// Publisher sends the problem reading to CloudWatch when
	// collect.publish is on.
	Publisher collect.Publisher
}

// Open builds the manager for the spec: on Redshift Serverless it changes
// the workgroup through the Redshift Serverless API (aws.region, endpoint
// key redshift_serverless); on PostgreSQL it records leases only. It does
// not call AWS. A pipeline whose runs cannot be followed is logged, not
// an error: leases then end on request or expiry.
func Open(ctx context.Context, s *spec.Spec, st *store.Store, b Backends, logger *slog.Logger) (*Manager, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	o := Options{Spec: s, Store: st, Logger: logger, Publisher: b.Publisher}
	if s.Warehouse.Engine == spec.EngineRedshiftServerless {
		wg, err := aws.NewWorkgroups(ctx, aws.Options{Region: s.AWS.Region, Endpoints: s.AWS.Endpoints.Map()})
		if err != nil {
			return nil, err
		}
		o.Capacity = wg
	}
	runs, err := RunsFor(s, b.Warehouse, b.SFN)
	if err != nil {
		logger.Warn("capacity lease", "err", err)
	}
	o.Runs = runs
	return New(o)
}
