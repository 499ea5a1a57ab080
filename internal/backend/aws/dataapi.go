package aws

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata"
	rdtypes "github.com/aws/aws-sdk-go-v2/service/redshiftdata/types"

	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
)

// DataAPI runs dpcops' SQL on a Redshift Serverless workgroup through the
// Redshift Data API, with the caller's IAM identity and no stored password:
// the way in of the publisher, which runs where no connection can be kept.
// It answers as a *pgwire.Client does, so the Redshift dialect and its SQL
// files serve both.
type DataAPI struct {
	c                   *redshiftdata.Client
	workgroup, database string
	// Sleep waits between polls (default a timer).
	Sleep func(ctx context.Context, d time.Duration) error
	// Poll is the first wait between polls of a statement; it doubles up
	// to a second (default 50ms).
	Poll       time.Duration
	statements atomic.Int64
}

// NewDataAPI returns a Data API client for a workgroup's database over the
// same options as New (endpoint key redshift_data). It does not call AWS.
func NewDataAPI(ctx context.Context, o Options, workgroup, database string) (*DataAPI, error) {
	if workgroup == "" || database == "" {
		return nil, errors.New("the Data API needs warehouse.workgroup and warehouse.database")
	}
	cfg, err := loadConfig(ctx, o)
	if err != nil {
		return nil, err
	}
	c := redshiftdata.NewFromConfig(cfg, func(ro *redshiftdata.Options) {
		if ep := o.Endpoints["redshift_data"]; ep != "" {
			ro.BaseEndpoint = awssdk.String(ep)
		}
	})
	return &DataAPI{c: c, workgroup: workgroup, database: database, Sleep: sleep, Poll: 50 * time.Millisecond}, nil
}

// Statements is the number of statements submitted so far.
func (d *DataAPI) Statements() int64 { return d.statements.Load() }

// Close has nothing to close: the Data API keeps no connection.
func (d *DataAPI) Close() error { return nil }

// Exec refuses scripts: the Data API runs one statement per call, and
// splitting a script is the server's job.
func (d *DataAPI) Exec(context.Context, string) error {
	return errors.New("the Data API runs one statement at a time: run scripts such as warehouse init over warehouse.dsn")
}

// pending is a submitted statement not yet finished.
type pending struct {
	index    int
	id       string
	deadline time.Time
}

// Run submits every query at once, waits for them, and returns one result
// per query, in order. A query the server refuses carries a
// *pgwire.QueryError. The error is for the run as a whole: the first
// submission failed (no access, no such workgroup, API unreachable), or ctx
// ended; then every unfinished result carries it too.
func (d *DataAPI) Run(ctx context.Context, queries []pgwire.Query) ([]pgwire.Result, error) {
	results := make([]pgwire.Result, len(queries))
	var waiting []pending
	for i, q := range queries {
		results[i].Name = q.Name
		id, err := d.submit(ctx, q)
		if err != nil {
			if i == 0 {
				return failAll(results, err), err
			}
			results[i].Err = err
			continue
		}
		p := pending{index: i, id: id}
		if q.Timeout > 0 {
			p.deadline = time.Now().Add(q.Timeout)
		}
		waiting = append(waiting, p)
	}
	wait := d.Poll
	for len(waiting) > 0 {
		if err := d.Sleep(ctx, wait); err != nil {
			d.cancel(waiting)
			return failAll(results, err), err
		}
		wait = min(2*wait, time.Second)
		var still []pending
		for i, p := range waiting {
			done, err := d.look(ctx, p, &results[p.index])
			if err != nil && ctx.Err() != nil {
				d.cancel(append(still, waiting[i:]...))
				return failAll(results, ctx.Err()), ctx.Err()
			}
			if err != nil {
				results[p.index].Err = err
			} else if !done {
				still = append(still, p)
			}
		}
		waiting = still
	}
	return results, nil
}

// paramRE finds pgwire's positional parameters; the Data API names them.
var paramRE = regexp.MustCompile(`\$([0-9]+)`)

// submit starts one statement. Whole-line comments go: they are for
// readers of the SQL files, and a parameter named in one would be taken
// for a use.
func (d *DataAPI) submit(ctx context.Context, q pgwire.Query) (string, error) {
	var lines []string
	for line := range strings.SplitSeq(q.SQL, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			lines = append(lines, line)
		}
	}
	in := &redshiftdata.ExecuteStatementInput{
		Sql:           awssdk.String(paramRE.ReplaceAllString(strings.Join(lines, "\n"), ":p$1")),
		WorkgroupName: awssdk.String(d.workgroup),
		Database:      awssdk.String(d.database),
	}
	if q.Name != "" {
		in.StatementName = awssdk.String("dpcops " + q.Name)
	}
	for i, a := range q.Args {
		in.Parameters = append(in.Parameters, rdtypes.SqlParameter{Name: awssdk.String("p" + strconv.Itoa(i+1)), Value: awssdk.String(a)})
	}
	d.statements.Add(1)
	pgwire.CountSent(1)
	out, err := d.c.ExecuteStatement(ctx, in)
	if err != nil {
		return "", fmt.Errorf("redshift-data ExecuteStatement: %w", err)
	}
	return awssdk.ToString(out.Id), nil
}

// look polls one statement and, once it finished, reads its rows into r.
func (d *DataAPI) look(ctx context.Context, p pending, r *pgwire.Result) (done bool, err error) {
	out, err := d.c.DescribeStatement(ctx, &redshiftdata.DescribeStatementInput{Id: awssdk.String(p.id)})
	if err != nil {
		// Given up on: it must not run on unwatched.
		d.cancel([]pending{p})
		return true, fmt.Errorf("redshift-data DescribeStatement: %w", err)
	}
	switch out.Status {
	case rdtypes.StatusStringFinished:
		if awssdk.ToBool(out.HasResultSet) {
			return true, d.read(ctx, p.id, r)
		}
		return true, nil
	case rdtypes.StatusStringFailed:
		r.Err = refusal(awssdk.ToString(out.Error))
		return true, nil
	case rdtypes.StatusStringAborted:
		r.Err = &pgwire.QueryError{Code: "57014", Message: "statement aborted"}
		return true, nil
	}
	if !p.deadline.IsZero() && time.Now().After(p.deadline) {
		d.cancel([]pending{p})
		r.Err = &pgwire.QueryError{Code: "57014", Message: "canceling statement due to statement timeout"}
		return true, nil
	}
	return false, nil
}

// refusal turns a Data API error text ("ERROR: permission denied for
// relation x") into the error a server refusal is elsewhere; the API gives
// no SQLSTATE, so only a missing privilege is recognised.
func refusal(text string) *pgwire.QueryError {
	msg := strings.TrimSpace(strings.TrimPrefix(text, "ERROR:"))
	code := ""
	if strings.Contains(strings.ToLower(msg), "permission denied") {
		code = "42501"
	}
	return &pgwire.QueryError{Code: code, Message: msg}
}

// read fetches every page of a finished statement's rows, as text.
func (d *DataAPI) read(ctx context.Context, id string, r *pgwire.Result) error {
	var token *string
	for {
		out, err := d.c.GetStatementResult(ctx, &redshiftdata.GetStatementResultInput{Id: awssdk.String(id), NextToken: token})
		if err != nil {
			return fmt.Errorf("redshift-data GetStatementResult: %w", err)
		}
		if r.Columns == nil {
			for _, c := range out.ColumnMetadata {
				r.Columns = append(r.Columns, awssdk.ToString(c.Name))
			}
		}
		for _, rec := range out.Records {
			row := make([]pgwire.Value, len(rec))
			for i, f := range rec {
				row[i] = fieldText(f)
			}
			r.Rows = append(r.Rows, row)
		}
		if token = out.NextToken; awssdk.ToString(token) == "" {
			return nil
		}
	}
}

// fieldText writes a field as PostgreSQL's text format would.
func fieldText(f rdtypes.Field) pgwire.Value {
	switch v := f.(type) {
	case *rdtypes.FieldMemberIsNull:
		return pgwire.Value{Null: v.Value}
	case *rdtypes.FieldMemberLongValue:
		return pgwire.Value{Text: strconv.FormatInt(v.Value, 10)}
	case *rdtypes.FieldMemberDoubleValue:
		return pgwire.Value{Text: strconv.FormatFloat(v.Value, 'g', -1, 64)}
	case *rdtypes.FieldMemberStringValue:
		return pgwire.Value{Text: v.Value}
	case *rdtypes.FieldMemberBooleanValue:
		if v.Value {
			return pgwire.Value{Text: "t"}
		}
		return pgwire.Value{Text: "f"}
	case *rdtypes.FieldMemberBlobValue:
		return pgwire.Value{Text: string(v.Value)}
	}
	return pgwire.Value{Null: true}
}

// cancel asks the server to stop statements a run gives up on, so that
// they do not keep the workgroup busy. It outlives the run's context.
func (d *DataAPI) cancel(ps []pending) {
	ctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	for _, p := range ps {
		// A statement that finished meanwhile cannot be cancelled; there
		// is nothing else to do about a failure here.
		_, _ = d.c.CancelStatement(ctx, &redshiftdata.CancelStatementInput{Id: awssdk.String(p.id)})
	}
}

func failAll(results []pgwire.Result, err error) []pgwire.Result {
	for i := range results {
		if results[i].Err == nil && results[i].Rows == nil {
			results[i].Err = err
		}
	}
	return results
}
