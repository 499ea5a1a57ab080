// Package pgwire sends SQL to PostgreSQL or Redshift over one connection in
// pipeline mode: every query of a collection cycle goes out in one round
// trip, each in its own implicit transaction so that one failing query does
// not abort the others, each under its own statement timeout.
package pgwire

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Query is one statement with text parameters.
type Query struct {
	Name    string
	SQL     string
	Args    []string
	Timeout time.Duration
}

// Value is one field of a row in text form.
type Value struct {
	Text string
	Null bool
}

// Result is the answer to one query.
type Result struct {
	Name    string
	Columns []string
	Rows    [][]Value
	Err     error
}

// Client holds one connection and reconnects after it breaks.
type Client struct {
	dsn            string
	connectTimeout time.Duration
	appName        string

	mu         sync.Mutex
	conn       *pgconn.PgConn
	own        *Sessions     // where the session's process id is noted
	timeout    time.Duration // the session's statement_timeout
	statements atomic.Int64
	roundTrips atomic.Int64
}

// New returns a client; it connects on first use.
func New(dsn string, connectTimeout time.Duration, appName string) *Client {
	return &Client{dsn: dsn, connectTimeout: connectTimeout, appName: appName}
}

// Statements is the number of statements sent so far.
func (c *Client) Statements() int64 { return c.statements.Load() }

// sent counts the statements of every client of the process.
var sent atomic.Int64

// Sent is the number of statements this process has sent to any warehouse,
// through any client (CountSent adds those of other ways in, such as the
// Data API): dpcops' own share of the queries CloudWatch counts.
func Sent() int64 { return sent.Load() }

// CountSent adds n statements sent another way than a Client.
func CountSent(n int64) { sent.Add(n) }

// RoundTrips is the number of times the client sent requests and waited
// for their answers (a connection's own handshake not included).
func (c *Client) RoundTrips() int64 { return c.roundTrips.Load() }

// Close closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgetSession()
	if c.conn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.conn.Close(ctx)
	c.conn = nil
	return err
}

func (c *Client) connect(ctx context.Context) error {
	if c.conn != nil && !c.conn.IsClosed() {
		c.noteSession(ctx)
		return nil
	}
	c.forgetSession()
	cfg, err := pgconn.ParseConfig(c.dsn)
	if err != nil {
		// The parse error may quote the DSN, which holds the password.
		return errors.New("warehouse dsn is not a valid PostgreSQL connection string")
	}
	cfg.ConnectTimeout = c.connectTimeout
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = c.appName
	cctx, cancel := context.WithTimeout(ctx, c.connectTimeout)
	defer cancel()
	conn, err := pgconn.ConnectConfig(cctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to warehouse: %w", redact(err, cfg.Password))
	}
	c.conn, c.timeout = conn, 0
	c.noteSession(ctx)
	return nil
}

// Run sends the queries in one round trip and returns one result per
// query, in order. The error is for the connection as a whole (it could not
// be made, or broke); then every result carries it too, and the next Run
// reconnects.
func (c *Client) Run(ctx context.Context, queries []Query) ([]Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	results := make([]Result, len(queries))
	for i, q := range queries {
		results[i].Name = q.Name
	}
	if len(queries) == 0 {
		return results, nil
	}
	if err := c.connect(ctx); err != nil {
		return fail(results, err), err
	}
	done := c.inFlight()
	defer done()
	err := c.pipeline(ctx, queries, results)
	if err != nil {
		// A broken pipeline leaves the connection in an unknown state.
		c.conn.Close(context.Background())
		c.conn = nil
		c.forgetSession()
		return fail(results, err), err
	}
	return results, nil
}

func fail(results []Result, err error) []Result {
	for i := range results {
		if results[i].Err == nil {
			results[i].Err = err
		}
	}
	return results
}

// step is one request of the pipeline: a query, or the SET that changes
// the statement timeout before it (index -1).
type step struct{ index int }

func (c *Client) pipeline(ctx context.Context, queries []Query, results []Result) error {
	p := c.conn.StartPipeline(ctx)
	var steps []step
	timeout := c.timeout
	for i, q := range queries {
		if q.Timeout > 0 && q.Timeout != timeout {
			timeout = q.Timeout
			p.SendQueryParams("SET statement_timeout = "+strconv.FormatInt(timeout.Milliseconds(), 10), nil, nil, nil, nil)
			p.SendPipelineSync()
			steps = append(steps, step{-1})
		}
		args := make([][]byte, len(q.Args))
		for j, a := range q.Args {
			args[j] = []byte(a)
		}
		p.SendQueryParams(q.SQL, args, nil, nil, nil)
		p.SendPipelineSync()
		steps = append(steps, step{i})
	}
	c.statements.Add(int64(len(steps)))
	sent.Add(int64(len(steps)))
	c.roundTrips.Add(1)
	if err := p.Flush(); err != nil {
		p.Close()
		return err
	}
	for _, s := range steps {
		if err := c.readStep(p, s, results); err != nil {
			p.Close()
			return err
		}
	}
	c.timeout = timeout
	return p.Close()
}

// readStep reads one query's result and its sync point. A server error is
// the query's own; anything else breaks the pipeline.
func (c *Client) readStep(p *pgconn.Pipeline, s step, results []Result) error {
	for {
		res, err := p.GetResults()
		var pgErr *pgconn.PgError
		switch {
		case errors.As(err, &pgErr):
			if s.index >= 0 {
				results[s.index].Err = describe(pgErr)
			}
			continue
		case err != nil:
			return err
		}
		switch r := res.(type) {
		case *pgconn.ResultReader:
			if s.index < 0 {
				if _, err := r.Close(); err != nil {
					return err
				}
				continue
			}
			if err := read(r, &results[s.index]); err != nil {
				var pgErr *pgconn.PgError
				if !errors.As(err, &pgErr) {
					return err
				}
				results[s.index].Err = describe(pgErr)
			}
		case *pgconn.PipelineSync:
			return nil
		case nil:
			return errors.New("pipeline ended before its sync point")
		}
	}
}

func read(r *pgconn.ResultReader, res *Result) error {
	for _, fd := range r.FieldDescriptions() {
		res.Columns = append(res.Columns, fd.Name)
	}
	for r.NextRow() {
		vals := r.Values()
		row := make([]Value, len(vals))
		for i, v := range vals {
			if v == nil {
				row[i] = Value{Null: true}
			} else {
				row[i] = Value{Text: string(v)}
			}
		}
		res.Rows = append(res.Rows, row)
	}
	_, err := r.Close()
	return err
}

// describe keeps the parts of a server error a user acts on.
func describe(e *pgconn.PgError) error {
	return &QueryError{Code: e.Code, Message: e.Message}
}

// QueryError is the server's refusal of one query.
type QueryError struct {
	Code    string
	Message string
}

func (e *QueryError) Error() string {
	if e.Code == "" {
		return e.Message // the Data API reports no SQLSTATE
	}
	return fmt.Sprintf("%s (SQLSTATE %s)", e.Message, e.Code)
}

// Canceled reports whether the query was cancelled by its statement
// timeout or by an operator.
func (e *QueryError) Canceled() bool { return e.Code == "57014" }

// PermissionDenied reports a missing privilege.
func (e *QueryError) PermissionDenied() bool { return e.Code == "42501" }

// redact removes a password from an error message.
func redact(err error, password string) error {
	if password == "" {
		return err
	}
	return redactedError{err: err, password: password}
}

type redactedError struct {
	err      error
	password string
}

func (e redactedError) Error() string {
	return strings.ReplaceAll(e.err.Error(), e.password, "<redacted>")
}

func (e redactedError) Unwrap() error { return e.err }

func asPgError(err error) (*pgconn.PgError, bool) {
	var pgErr *pgconn.PgError
	ok := errors.As(err, &pgErr)
	return pgErr, ok
}
