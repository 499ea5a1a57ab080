package redshift

import (
	"context"
	"embed"
	"fmt"
	"maps"
	"math"
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
		panic(err) // a constant name of this package; tests read every file
	}
	return string(b)
}

// Conn is how the dialect reaches the workgroup: a *pgwire.Client over
// the PostgreSQL protocol, or the Redshift Data API (package dataapi).
type Conn interface {
	pgwire.Runner
	// Exec runs a script of several statements.
	Exec(ctx context.Context, sql string) error
	// Statements is the number of statements sent so far.
	Statements() int64
	Close() error
}

// Warehouse reads a Redshift Serverless workgroup over SQL.
type Warehouse struct {
	c       Conn
	timeout time.Duration
}

// New returns the dialect over a connection; timeout bounds each
// statement.
func New(c Conn, timeout time.Duration) *Warehouse {
	return &Warehouse{c: c, timeout: timeout}
}

// Statements is the number of statements sent.
func (w *Warehouse) Statements() int64 { return w.c.Statements() }

// Close closes the connection.
func (w *Warehouse) Close() error { return w.c.Close() }

// Init creates the ops ledger, idempotently.
func (w *Warehouse) Init(ctx context.Context) error {
	return w.c.Exec(ctx, SQL("init"))
}

// ErrNoPipelineDefault says that ops.pipeline_runs.pipeline lacks the
// spec's pipeline as its default, which Redshift cannot add to an existing
// column.
var ErrNoPipelineDefault = fmt.Errorf("%w (Redshift cannot change the default of an existing column: recreate the empty table with dpcops warehouse init)", backend.ErrNoPipelineDefault)

// InitLedger creates the ops ledger as Init does, with pipeline as the
// default of ops.pipeline_runs.pipeline, so that a loader that leaves the
// column out records a run of the spec's pipeline. A table created
// earlier keeps its default; if that is not pipeline, InitLedger returns
// ErrNoPipelineDefault once the schema is otherwise ready.
func (w *Warehouse) InitLedger(ctx context.Context, pipeline string) error {
	if err := w.c.Exec(ctx, ledgerScript(pipeline)); err != nil {
		return err
	}
	return w.checkPipelineDefault(ctx, pgwire.QuoteLiteral(pipeline))
}

// ledgerScript is init.sql with pipeline, quoted as Redshift reads a
// literal, as the default of the pipeline column.
func ledgerScript(pipeline string) string {
	return strings.Replace(SQL("init"), "/* DEFAULT */", "DEFAULT "+pgwire.QuoteLiteral(pipeline), 1)
}

// checkPipelineDefault returns ErrNoPipelineDefault unless the default of
// ops.pipeline_runs.pipeline is the literal lit (Redshift prints it with a
// cast, 'name'::character varying).
func (w *Warehouse) checkPipelineDefault(ctx context.Context, lit string) error {
	res, err := w.c.Run(ctx, []pgwire.Query{w.q("pipeline_default")})
	if err != nil {
		return err
	}
	if res[0].Err != nil {
		return fmt.Errorf("read the default of ops.pipeline_runs.pipeline: %w", res[0].Err)
	}
	if len(res[0].Rows) == 1 {
		def := res[0].Rows[0][0]
		if !def.Null && (def.Text == lit || strings.HasPrefix(def.Text, lit+"::")) {
			return nil
		}
	}
	return ErrNoPipelineDefault
}

func (w *Warehouse) q(file string, args ...string) pgwire.Query {
	return pgwire.Query{SQL: SQL(file), Args: args, Timeout: w.timeout}
}

// Snapshot reads what want asks for in one round trip. Database figures
// (size, connections, counters) come from CloudWatch on Serverless, so
// want.Database is ignored here.
func (w *Warehouse) Snapshot(ctx context.Context, want backend.Want) (*backend.Snapshot, error) {
	var p pgwire.Plan[backend.Snapshot]
	if want.Queries {
		p.Add("queries", w.q("queries", pgwire.Epoch(want.QueriesSince)), parseQueries)
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
	if want.Usage {
		p.Add("usage", w.q("usage", pgwire.Epoch(want.UsageSince)), parseUsage)
	}
	if want.RPUMinutes {
		p.Add("rpu_minutes", w.q("rpu_minutes", pgwire.Epoch(want.RPUSince)), parseRPUMinutes)
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
	if want.FailedQueries {
		p.Add("failed_queries", w.q("failed_queries", pgwire.Epoch(want.RecentSince)), backend.ParseFailedQueries)
	}
	if want.Columns {
		p.Add("columns", w.q("columns"), backend.ParseColumns)
	}
	if !want.FailedAfter.Time.IsZero() {
		p.Add("failed_events", w.q("failed_events", want.FailedAfter.Args(false)...), backend.ParseFailedEvents)
	}
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

func parseQueries(s *backend.Snapshot, r pgwire.Result) error {
	row, err := pgwire.One(r)
	if err != nil {
		return err
	}
	var q backend.QueryCounts
	if q.Succeeded, err = row[0].Int(); err != nil {
		return err
	}
	if q.Failed, err = row[1].Int(); err != nil {
		return err
	}
	if q.Until, err = row[2].Epoch(); err != nil {
		return err
	}
	s.Queries = &q
	return nil
}

func parseActivity(s *backend.Snapshot, r pgwire.Result) error {
	a := &backend.Activity{}
	for _, row := range r.Rows {
		id, err := row[0].Int()
		if err != nil {
			return err
		}
		q := backend.RunningQuery{ID: id, User: row[2].Text, Database: row[3].Text, Label: row[4].Text, Text: row[8].Text}
		q.PID, _ = row[1].Int()
		if t, err := row[5].Epoch(); err == nil {
			q.Started = t
		}
		if e, err := row[6].Float(); err == nil {
			q.Elapsed = time.Duration(e * float64(time.Second))
		}
		if e, err := row[7].Float(); err == nil {
			q.QueueTime = time.Duration(e * float64(time.Second))
		}
		a.Running = append(a.Running, q)
	}
	a.Active = len(a.Running)
	s.Activity = a
	return nil
}

// parseTables derives the figures of SVV_TABLE_INFO: unused share from
// tbl_rows (which counts deleted rows) against estimated_visible_rows, and
// skew percent as (skew_rows − 1) × 100.
func parseTables(s *backend.Snapshot, r pgwire.Result) error {
	for _, row := range r.Rows {
		t := backend.Table{Schema: row[0].Text, Name: row[1].Text, ModifiedSinceAnalyze: -1}
		var err error
		if t.Rows, err = row[2].Int(); err != nil {
			return err
		}
		visible, err := row[3].Int()
		if err != nil {
			return err
		}
		t.DeadRows = max(0, t.Rows-visible)
		if t.Rows > 0 {
			t.UnusedPercent = 100 * float64(t.DeadRows) / float64(t.Rows)
		}
		t.SizeMB, _ = row[4].Float()
		t.UnsortedPercent, _ = row[5].Float()
		t.StatsOff, _ = row[6].Float()
		if skew, err := row[7].Float(); err == nil {
			t.SkewPercent = max(0, math.Round((skew-1)*10000)/100)
		}
		s.Tables = append(s.Tables, t)
	}
	return nil
}

func parseRPUMinutes(s *backend.Snapshot, r pgwire.Result) error {
	out := make([]backend.RPUMinute, 0, len(r.Rows))
	for _, row := range r.Rows {
		at, err := row[0].Epoch()
		if err != nil {
			return err
		}
		rpu, err := row[1].Float()
		if err != nil {
			return err
		}
		out = append(out, backend.RPUMinute{At: at, RPU: rpu})
	}
	s.RPUMinutes = out
	return nil
}

func parseUsage(s *backend.Snapshot, r pgwire.Result) error {
	row, err := pgwire.One(r)
	if err != nil {
		return err
	}
	var u backend.Usage
	if u.ComputeSeconds, err = row[0].Float(); err != nil {
		return err
	}
	if u.ChargedSeconds, err = row[1].Float(); err != nil {
		return err
	}
	if u.Until, err = row[2].Epoch(); err != nil {
		return err
	}
	s.Usage = &u
	return nil
}
