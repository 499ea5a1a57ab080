package pgwire

import (
	"context"
	"fmt"
)

// Plan gathers the queries of one cycle, each with the code that reads its
// answer into a T, and runs them in one round trip.
type Plan[T any] struct {
	queries []Query
	parts   []string
	parse   []func(*T, Result) error
}

// Add queues a query; part names it in errors.
func (p *Plan[T]) Add(part string, q Query, parse func(*T, Result) error) {
	if q.Name == "" {
		q.Name = part
	}
	p.queries = append(p.queries, q)
	p.parts = append(p.parts, part)
	p.parse = append(p.parse, parse)
}

// Len is the number of queued queries.
func (p *Plan[T]) Len() int { return len(p.queries) }

// Runner sends queries and returns one result per query, in order: a
// *Client over one connection, or the Redshift Data API.
type Runner interface {
	Run(ctx context.Context, queries []Query) ([]Result, error)
}

// Run sends the queries and reads each answer into t. It returns each
// failed part's error by part name, and the connection's error if the round
// trip as a whole failed.
func (p *Plan[T]) Run(ctx context.Context, c Runner, t *T) (map[string]error, error) {
	errs := map[string]error{}
	results, err := c.Run(ctx, p.queries)
	for i, r := range results {
		if r.Err != nil {
			errs[p.parts[i]] = r.Err
			continue
		}
		if perr := p.parse[i](t, r); perr != nil {
			errs[p.parts[i]] = fmt.Errorf("%s: %w", p.parts[i], perr)
		}
	}
	return errs, err
}

// One returns the only row of a result.
func One(r Result) ([]Value, error) {
	if len(r.Rows) != 1 {
		return nil, fmt.Errorf("want one row, got %d", len(r.Rows))
	}
	return r.Rows[0], nil
}

// Exec runs SQL that may hold several statements (simple protocol), such as
// a schema script, and returns the first error.
func (c *Client) Exec(ctx context.Context, sql string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.connect(ctx); err != nil {
		return err
	}
	done := c.inFlight()
	defer done()
	c.statements.Add(1)
	sent.Add(1)
	c.roundTrips.Add(1)
	_, err := c.conn.Exec(ctx, sql).ReadAll()
	if pgErr, ok := asPgError(err); ok {
		return describe(pgErr)
	}
	return err
}
