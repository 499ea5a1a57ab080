package collect

import (
	"context"
	"errors"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/backend/postgres"
	"github.com/dpc-learning/dpcops/internal/backend/redshift"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// ApplicationName names dpcops' own sessions on the warehouse for whoever
// reads the server's session list. Query monitoring does not trust it: it
// knows dpcops' own sessions by process id (pgwire.Sessions).
const ApplicationName = "dpcops"

// Initializer creates the ops schema; both dialects implement it.
type Initializer interface {
	Init(ctx context.Context) error
}

// OpenWarehouse returns the SQL backend of the spec's engine, or nil when
// the spec gives no DSN. It connects on first use.
func OpenWarehouse(s *spec.Spec) backend.Warehouse {
	w := s.Warehouse
	if !w.DSN.IsSet() {
		return nil
	}
	c := pgwire.New(w.DSN.Reveal(), w.ConnectTimeout.D(), ApplicationName)
	if w.Engine == spec.EngineRedshiftServerless {
		return redshift.New(c, w.StatementTimeout.D())
	}
	return postgres.New(c, w.StatementTimeout.D())
}

// OpenAWS returns the AWS client when the spec needs AWS: a serverless
// engine, a Step Functions pipeline, or publishing to CloudWatch.
func OpenAWS(ctx context.Context, s *spec.Spec) (*aws.Client, error) {
	if s.Warehouse.Engine != spec.EngineRedshiftServerless && s.Pipeline.Kind != spec.PipelineStepFunctions && !s.Collect.Publish {
		return nil, nil
	}
	if s.AWS.Region == "" {
		return nil, errors.New("aws.region is required to read CloudWatch and Step Functions")
	}
	return aws.New(ctx, aws.Options{Region: s.AWS.Region, Endpoints: s.AWS.Endpoints.Map()})
}

// OpenErrorLog returns the writer of error events to the platform's
// CloudWatch Logs group when collect.publish is on, nil otherwise. stream
// names the writer (serve, collect, publisher): the module creates the
// group, a writer its own stream.
func OpenErrorLog(ctx context.Context, s *spec.Spec, stream string) (ErrorWriter, error) {
	if !s.Collect.Publish {
		return nil, nil
	}
	if s.AWS.Region == "" {
		return nil, errors.New("aws.region is required to publish to CloudWatch")
	}
	return aws.NewLogs(ctx, aws.Options{Region: s.AWS.Region, Endpoints: s.AWS.Endpoints.Map()}, ErrorLogGroup(s.Platform), stream)
}
