// Package publisher is the collector of the CloudWatch form: dpcops run as
// an AWS Lambda function every collection interval, with no server and no
// store. Each invocation runs one collection cycle over the Redshift Data
// API (IAM auth, no password), publishes the Custom/DPC metrics and the
// error events, and beats a heartbeat whose absence pages.
package publisher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/backend/redshift"
	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// HeartbeatMetric is what each invocation that ran publishes, in the
// spec's custom namespace with dimension Environment; the module's alarm on
// it treats missing data as breaching.
const HeartbeatMetric = "PublisherHeartbeat"

// LogStream is the stream of the error log group the publisher writes.
const LogStream = "publisher"

// Options are the publisher's collaborators.
type Options struct {
	Spec *spec.Spec
	// AWS carries the region, endpoints and credentials of every client.
	AWS    aws.Options
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Publisher runs one collection cycle per invocation. A warm Lambda keeps
// it between invocations, and with it the collector's watermarks and last
// runs; a cold one starts over from a window of one interval.
type Publisher struct {
	s   *spec.Spec
	c   *collect.Collector
	cw  *aws.Client
	log *slog.Logger
	now func() time.Time
}

// Open builds the publisher. It does not call AWS.
func Open(ctx context.Context, o Options) (*Publisher, error) {
	if o.Spec.Warehouse.Engine != spec.EngineRedshiftServerless {
		return nil, errors.New("the publisher reads Redshift Serverless through the Data API: on engine " + o.Spec.Warehouse.Engine + " run dpcops serve with collect.publish")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	// The publisher exists to publish, whatever collect.publish says (it
	// is serve's switch).
	s := *o.Spec
	s.Collect.Publish = true
	data, err := aws.NewDataAPI(ctx, o.AWS, s.Warehouse.Workgroup, s.Warehouse.Database)
	if err != nil {
		return nil, err
	}
	cw, err := aws.New(ctx, o.AWS)
	if err != nil {
		return nil, err
	}
	logs, err := aws.NewLogs(ctx, o.AWS, collect.ErrorLogGroup(s.Platform), LogStream)
	if err != nil {
		return nil, err
	}
	c := collect.New(collect.Options{
		Spec:      &s,
		Warehouse: redshift.New(data, s.Warehouse.StatementTimeout.D()),
		AWS:       cw,
		Errors:    logs,
		NeverWake: true,
		Publisher: true,
		Logger:    o.Logger,
		Now:       o.Now,
	})
	return &Publisher{s: &s, c: c, cw: cw, log: o.Logger, now: o.Now}, nil
}

// Summary is what one invocation did: the function's response, and what
// `dpcops publish --once` prints.
type Summary struct {
	Time       time.Time      `json:"time"`
	Readings   int            `json:"readings"`
	Skipped    []collect.Skip `json:"skipped,omitempty"`
	Errors     int            `json:"error_events"`
	Statements int            `json:"statements"`
	// Health lists the collectors that failed this cycle, with why.
	Failing map[string]string `json:"failing,omitempty"`
}

// Invoke runs one cycle and beats the heartbeat. Metrics whose reads
// failed are skipped, not fatal: their collectors' failures are published
// too. The error is for a heartbeat CloudWatch did not take, which the
// heartbeat alarm reports as well.
func (p *Publisher) Invoke(ctx context.Context) (Summary, error) {
	// Lambda freezes the function at its deadline: the cycle ends a little
	// before, so that its statements are cancelled and the heartbeat (on
	// ctx) still goes out.
	cctx := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		cctx, cancel = context.WithDeadline(ctx, dl.Add(-min(10*time.Second, time.Until(dl)/4)))
		defer cancel()
	}
	res, err := p.c.Cycle(cctx, false)
	if err != nil {
		// Without a store a cycle cannot fail to be stored; anything
		// here is a bug worth the invocation's error.
		return Summary{}, err
	}
	sum := Summary{Time: res.Time, Readings: len(res.Readings), Skipped: res.Skipped, Errors: len(res.Errors), Statements: res.Statements}
	for _, h := range res.Health {
		if h.LastError != "" && !h.LastErrorAt.Before(res.Time) {
			if sum.Failing == nil {
				sum.Failing = map[string]string{}
			}
			sum.Failing[h.Collector] = h.LastError
		}
	}
	beat := aws.Datum{MetricName: HeartbeatMetric, Dimensions: map[string]string{"Environment": p.s.Environment},
		Unit: "Count", Time: p.now().UTC(), Value: 1}
	if err := p.cw.PutMetricData(ctx, spec.DefaultCustomNamespace, []aws.Datum{beat}); err != nil {
		return sum, fmt.Errorf("heartbeat: %w", err)
	}
	p.log.Info("published", "readings", sum.Readings, "skipped", len(sum.Skipped), "error_events", sum.Errors, "statements", sum.Statements)
	return sum, nil
}
