// Package aws reads what AWS knows about the platform: CloudWatch metrics
// of Redshift Serverless (GetMetricData), the pipeline's Step Functions
// executions (ListExecutions), and publishes dpcops' own metrics
// (PutMetricData). Clients are aws-sdk-go-v2 with an optional endpoint per
// service, so tests and local emulators can stand in for AWS.
package aws

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// Options configure the clients.
type Options struct {
	Region string
	// Endpoints overrides service endpoints by key: cloudwatch,
	// stepfunctions.
	Endpoints map[string]string
	// Credentials, when set, replace the default credential chain.
	Credentials awssdk.CredentialsProvider
	// HTTPClient, when set, carries the requests.
	HTTPClient *http.Client
	// MaxAttempts bounds retries of throttled and failed calls (default 5);
	// the caller's context bounds their total time.
	MaxAttempts int
}

// Client talks to CloudWatch and Step Functions.
type Client struct {
	cw  *cloudwatch.Client
	sfn *sfn.Client
}

// New builds the clients. It does not call AWS.
func New(ctx context.Context, o Options) (*Client, error) {
	cfg, err := loadConfig(ctx, o)
	if err != nil {
		return nil, err
	}
	c := &Client{
		cw: cloudwatch.NewFromConfig(cfg, func(co *cloudwatch.Options) {
			if ep := o.Endpoints["cloudwatch"]; ep != "" {
				co.BaseEndpoint = awssdk.String(ep)
			}
		}),
		sfn: sfn.NewFromConfig(cfg, func(so *sfn.Options) {
			if ep := o.Endpoints["stepfunctions"]; ep != "" {
				so.BaseEndpoint = awssdk.String(ep)
			}
		}),
	}
	return c, nil
}

// loadConfig is the SDK configuration of every client: the region, the
// retries, the credentials and the HTTP client the options give.
func loadConfig(ctx context.Context, o Options) (awssdk.Config, error) {
	attempts := o.MaxAttempts
	if attempts == 0 {
		attempts = 5
	}
	loadOpts := []func(*config.LoadOptions) error{
		config.WithRegion(o.Region),
		config.WithRetryer(func() awssdk.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = attempts
				so.MaxBackoff = 5 * time.Second
			})
		}),
	}
	if o.Credentials != nil {
		loadOpts = append(loadOpts, config.WithCredentialsProvider(o.Credentials))
	}
	if o.HTTPClient != nil {
		loadOpts = append(loadOpts, config.WithHTTPClient(o.HTTPClient))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return cfg, fmt.Errorf("aws config: %w", err)
	}
	return cfg, nil
}

// MetricQuery asks for one series: a metric with a statistic, or an
// expression (SEARCH, math) over others.
type MetricQuery struct {
	ID         string
	Namespace  string
	MetricName string
	Dimensions map[string]string
	Stat       string
	Period     time.Duration
	Expression string
}

// Point is one value of a series.
type Point struct {
	Time  time.Time
	Value float64
}

// MetricData reads the queries' series between start and end, oldest
// point first, following pagination. A query with no data maps to no
// points.
func (c *Client) MetricData(ctx context.Context, queries []MetricQuery, start, end time.Time) (map[string][]Point, error) {
	in := &cloudwatch.GetMetricDataInput{
		StartTime: awssdk.Time(start),
		EndTime:   awssdk.Time(end),
		ScanBy:    cwtypes.ScanByTimestampAscending,
	}
	for _, q := range queries {
		in.MetricDataQueries = append(in.MetricDataQueries, toQuery(q))
	}
	out := map[string][]Point{}
	p := cloudwatch.NewGetMetricDataPaginator(c.cw, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("cloudwatch GetMetricData: %w", err)
		}
		for _, r := range page.MetricDataResults {
			id := awssdk.ToString(r.Id)
			for i := range r.Timestamps {
				if i < len(r.Values) {
					out[id] = append(out[id], Point{Time: r.Timestamps[i].UTC(), Value: r.Values[i]})
				}
			}
		}
	}
	for id := range out {
		pts := out[id]
		sort.Slice(pts, func(i, j int) bool { return pts[i].Time.Before(pts[j].Time) })
	}
	return out, nil
}

func toQuery(q MetricQuery) cwtypes.MetricDataQuery {
	mq := cwtypes.MetricDataQuery{Id: awssdk.String(q.ID), ReturnData: awssdk.Bool(true)}
	if q.Expression != "" {
		mq.Expression = awssdk.String(q.Expression)
		mq.Period = awssdk.Int32(int32(q.Period / time.Second))
		return mq
	}
	var dims []cwtypes.Dimension
	names := make([]string, 0, len(q.Dimensions))
	for n := range q.Dimensions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		dims = append(dims, cwtypes.Dimension{Name: awssdk.String(n), Value: awssdk.String(q.Dimensions[n])})
	}
	mq.MetricStat = &cwtypes.MetricStat{
		Metric: &cwtypes.Metric{Namespace: awssdk.String(q.Namespace), MetricName: awssdk.String(q.MetricName), Dimensions: dims},
		Period: awssdk.Int32(int32(q.Period / time.Second)),
		Stat:   awssdk.String(q.Stat),
	}
	return mq
}

// Execution is a Step Functions execution.
type Execution struct {
	ARN    string
	Name   string
	Status string
	Start  time.Time
	Stop   *time.Time
}

// LatestExecution returns the newest execution of a state machine with the
// given status (SUCCEEDED, RUNNING, FAILED...), or nil if there is none.
func (c *Client) LatestExecution(ctx context.Context, stateMachineARN, status string) (*Execution, error) {
	out, err := c.sfn.ListExecutions(ctx, &sfn.ListExecutionsInput{
		StateMachineArn: awssdk.String(stateMachineARN),
		StatusFilter:    sfntypes.ExecutionStatus(status),
		MaxResults:      1,
	})
	if err != nil {
		return nil, fmt.Errorf("stepfunctions ListExecutions: %w", err)
	}
	if len(out.Executions) == 0 {
		return nil, nil
	}
	e := out.Executions[0]
	x := &Execution{ARN: awssdk.ToString(e.ExecutionArn), Name: awssdk.ToString(e.Name), Status: string(e.Status), Start: awssdk.ToTime(e.StartDate).UTC()}
	if e.StopDate != nil {
		t := e.StopDate.UTC()
		x.Stop = &t
	}
	return x, nil
}

// Datum is one value to publish.
type Datum struct {
	MetricName string
	Dimensions map[string]string
	Unit       string
	Time       time.Time
	Value      float64
}

// PutMetricData publishes data to a namespace, 1000 values a call (the
// API's limit).
func (c *Client) PutMetricData(ctx context.Context, namespace string, data []Datum) error {
	for start := 0; start < len(data); start += 1000 {
		chunk := data[start:min(start+1000, len(data))]
		in := &cloudwatch.PutMetricDataInput{Namespace: awssdk.String(namespace)}
		for _, d := range chunk {
			md := cwtypes.MetricDatum{
				MetricName: awssdk.String(d.MetricName),
				Timestamp:  awssdk.Time(d.Time),
				Value:      awssdk.Float64(d.Value),
				Unit:       cwtypes.StandardUnit(d.Unit),
			}
			names := make([]string, 0, len(d.Dimensions))
			for n := range d.Dimensions {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				md.Dimensions = append(md.Dimensions, cwtypes.Dimension{Name: awssdk.String(n), Value: awssdk.String(d.Dimensions[n])})
			}
			in.MetricData = append(in.MetricData, md)
		}
		if _, err := c.cw.PutMetricData(ctx, in); err != nil {
			return fmt.Errorf("cloudwatch PutMetricData: %w", err)
		}
	}
	return nil
}
