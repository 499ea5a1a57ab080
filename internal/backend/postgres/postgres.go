package postgres

import (
	"context"
	"embed"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
)

//go:embed sql/*.sql
var sqlFS embed.FS

// SQL returns the text of an embedded query file.
func SQL(name string) string {
	b, err := sqlFS.ReadFile("sql/" + name + ".sql")
	if err != nil {
		// The names are constants of this package; a missing file is a
		// build mistake that tests catch.
		panic(err)
	}
	return string(b)
}

// Warehouse reads a PostgreSQL warehouse.
type Warehouse struct {
	c       *pgwire.Client
	timeout time.Duration
}

// New returns the dialect over a client; timeout bounds each statement.
func New(c *pgwire.Client, timeout time.Duration) *Warehouse {
	return &Warehouse{c: c, timeout: timeout}
}

// Statements is the number of statements sent.
func (w *Warehouse) Statements() int64 { return w.c.Statements() }

// Close closes the connection.
func (w *Warehouse) Close() error { return w.c.Close() }

// Init creates the ops schema, idempotently.
func (w *Warehouse) Init(ctx context.Context) error {
	return w.c.Exec(ctx, SQL("init"))
}

// InitLedger creates the ops schema as Init does and makes pipeline the
// default of ops.pipeline_runs.pipeline, on a table created now or
// earlier, so that a loader that leaves the column out records a run of
// the spec's pipeline. It is idempotent; another name replaces the
// default. The default is changed only when it differs: ALTER TABLE takes
// an exclusive lock on the ledger, which would stall a loader writing to
// it.
func (w *Warehouse) InitLedger(ctx context.Context, pipeline string) error {
	if err := w.c.Exec(ctx, SQL("init")); err != nil {
		return err
	}
	// A DEFAULT takes no parameter: the name goes in as a literal, in the
	// form PostgreSQL reads the same whatever standard_conforming_strings.
	lit := pgwire.QuotePostgresLiteral(pipeline)
	res, err := w.c.Run(ctx, []pgwire.Query{w.q("pipeline_default_get")})
	if err != nil {
		return err
	}
	if res[0].Err != nil {
		return fmt.Errorf("read the default of ops.pipeline_runs.pipeline: %w", res[0].Err)
	}
	if len(res[0].Rows) == 1 && res[0].Rows[0][0].Text == lit+"::text" {
		return nil
	}
	return w.c.Exec(ctx, strings.Replace(SQL("pipeline_default"), "/* pipeline */", lit, 1))
}

func (w *Warehouse) q(file string, args ...string) pgwire.Query {
	return pgwire.Query{SQL: SQL(file), Args: args, Timeout: w.timeout}
}

// Snapshot reads what want asks for in one round trip.
func (w *Warehouse) Snapshot(ctx context.Context, want backend.Want) (*backend.Snapshot, error) {
	var p pgwire.Plan[backend.Snapshot]
	if want.Database {
		p.Add("database", w.q("database"), parseDatabase)
	}
	if want.Activity {
		p.Add("activity", w.q("activity"), parseActivity)
	}
	if want.Tables {
		p.Add("tables", w.q("tables"), parseTables)
	}
	if want.LoadErrors {
		p.Add("load_errors", w.q("load_errors", pgwire.Epoch(want.LoadErrorsSince)), backend.ParseLoadErrors)
	}
	if want.Pipeline {
		p.Add("pipeline", w.q("pipeline", want.PipelineName), backend.ParsePipeline)
	}
	if want.MartQuery != "" {
		p.Add("mart", pgwire.Query{SQL: want.MartQuery, Timeout: w.timeout}, backend.ParseMart)
	}
	for _, name := range slices.Sorted(maps.Keys(want.Custom)) {
		p.Add("custom:"+name, pgwire.Query{SQL: want.Custom[name], Timeout: w.timeout}, backend.ParseCustom(name))
	}
	if want.PipelineRuns {
		p.Add("pipeline_runs", w.q("pipeline_runs", want.PipelineName, pgwire.Epoch(want.RecentSince)), backend.ParsePipelineRuns)
	}
	if want.LoadErrorRows {
		p.Add("load_error_rows", w.q("load_error_rows", pgwire.Epoch(want.RecentSince)), backend.ParseLoadErrorRows)
	}
	if want.Columns {
		p.Add("columns", w.q("columns"), backend.ParseColumns)
	}
	// Failed queries come from the server's jsonlog on PostgreSQL.
	if !want.RejectedAfter.Time.IsZero() {
		p.Add("rejected_events", w.q("rejected_events", want.RejectedAfter.Args(true)...), backend.ParseRejectedEvents)
	}
	snap := &backend.Snapshot{At: time.Now().UTC()}
	before := w.c.Statements()
	errs, err := p.Run(ctx, w.c, snap)
	snap.Errors = errs
	snap.Statements = int(w.c.Statements() - before)
	return snap, err
}

func parseDatabase(s *backend.Snapshot, r pgwire.Result) error {
	row, err := pgwire.One(r)
	if err != nil {
		return err
	}
	var d backend.Database
	var conns int64
	for _, f := range []struct {
		v   pgwire.Value
		dst *int64
	}{{row[0], &d.Commits}, {row[1], &d.Rollbacks}, {row[2], &d.SizeBytes}, {row[3], &conns}} {
		if *f.dst, err = f.v.Int(); err != nil {
			return err
		}
	}
	d.Connections = int(conns)
	if s.At, err = row[4].Epoch(); err != nil {
		return err
	}
	s.Database = &d
	return nil
}

func parseActivity(s *backend.Snapshot, r pgwire.Result) error {
	a := &backend.Activity{}
	for _, row := range r.Rows {
		pid, err := row[0].Int()
		if err != nil {
			return err
		}
		q := backend.RunningQuery{ID: pid, PID: pid, User: row[1].Text, Database: row[2].Text, Label: row[3].Text, Text: row[6].Text}
		if t, err := row[4].Epoch(); err == nil {
			q.Started = t
		}
		if e, err := row[5].Float(); err == nil {
			q.Elapsed = time.Duration(e * float64(time.Second))
		}
		a.Running = append(a.Running, q)
	}
	a.Active = len(a.Running)
	s.Activity = a
	return nil
}

func parseTables(s *backend.Snapshot, r pgwire.Result) error {
	for _, row := range r.Rows {
		t := backend.Table{Schema: row[0].Text, Name: row[1].Text, UnsortedPercent: -1, SkewPercent: -1}
		var err error
		if t.Rows, err = row[2].Int(); err != nil {
			return err
		}
		if t.DeadRows, err = row[3].Int(); err != nil {
			return err
		}
		if t.ModifiedSinceAnalyze, err = row[4].Int(); err != nil {
			t.ModifiedSinceAnalyze = -1
		}
		t.SizeMB, _ = row[5].Float()
		if all := t.Rows + t.DeadRows; all > 0 {
			t.UnusedPercent = 100 * float64(t.DeadRows) / float64(all)
		}
		switch {
		case t.ModifiedSinceAnalyze >= 0 && t.Rows > 0:
			t.StatsOff = min(100, 100*float64(t.ModifiedSinceAnalyze)/float64(t.Rows))
		case t.ModifiedSinceAnalyze > 0:
			t.StatsOff = 100
		}
		if v, err := row[6].Epoch(); err == nil {
			t.LastVacuum = &v
		}
		if v, err := row[7].Epoch(); err == nil {
			t.LastAnalyze = &v
		}
		s.Tables = append(s.Tables, t)
	}
	return nil
}
