package maintain

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/backend/postgres"
	"github.com/dpc-learning/dpcops/internal/backend/redshift"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// ApplicationName names dpcops' maintenance sessions (application_name on
// PostgreSQL, query_group on Redshift) for whoever reads the server's
// session list. Query monitoring does not trust it, since any client can
// take it: it knows dpcops' own sessions by process id (pgwire.Sessions).
const ApplicationName = "dpcops-maintenance"

// vacuumLockKey is the advisory lock key that lets one dpcops process
// VACUUM at a time on a PostgreSQL database ("dpcVACUM" in ASCII).
const vacuumLockKey = 0x6470635641435554

// StepFunctions is what the runner and scheduler ask of Step Functions;
// *aws.Client implements it.
type StepFunctions interface {
	LatestExecution(ctx context.Context, stateMachineARN, status string) (*aws.Execution, error)
}

// warehouse is dpcops' maintenance sessions on the warehouse: one that
// reads (plans, figures, checks) and one that runs statements and holds
// the VACUUM lock, so that reading never waits behind a long VACUUM.
type warehouse struct {
	s       *spec.Spec
	engine  string
	read    *pgwire.Client
	exec    *pgwire.Client
	dialect backend.Warehouse
	sql     func(string) string
	timeout time.Duration // for reads: warehouse.statement_timeout
	sfn     StepFunctions
}

func openWarehouse(s *spec.Spec, sfn StepFunctions) (*warehouse, error) {
	w := s.Warehouse
	if !w.DSN.IsSet() {
		return nil, errors.New("warehouse.dsn is empty: maintenance needs a connection to the warehouse")
	}
	wh := &warehouse{
		s: s, engine: w.Engine, timeout: w.StatementTimeout.D(), sfn: sfn,
		read: pgwire.New(w.DSN.Reveal(), w.ConnectTimeout.D(), ApplicationName),
		exec: pgwire.New(w.DSN.Reveal(), w.ConnectTimeout.D(), ApplicationName),
	}
	if w.Engine == spec.EnginePostgres {
		wh.dialect, wh.sql = postgres.New(wh.read, wh.timeout), postgres.SQL
	} else {
		wh.dialect, wh.sql = redshift.New(wh.read, wh.timeout), redshift.SQL
	}
	return wh, nil
}

func (w *warehouse) close() error {
	return errors.Join(w.read.Close(), w.exec.Close())
}

func (w *warehouse) postgres() bool { return w.engine == spec.EnginePostgres }

// clientGrace is how much longer than its statement timeout a query may
// take on the client's side (a connection that hangs).
const clientGrace = 5 * time.Second

// query runs one embedded query on the read session.
func (w *warehouse) query(ctx context.Context, file string, args ...string) (pgwire.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, w.timeout+clientGrace)
	defer cancel()
	res, err := w.read.Run(ctx, []pgwire.Query{{Name: file, SQL: w.sql(file), Args: args, Timeout: w.timeout}})
	if err != nil {
		return pgwire.Result{}, err
	}
	return res[0], res[0].Err
}

// tables reads every table's statistics, as the collector does. Rows
// loaded since each table's last ANALYZE are, on PostgreSQL, the rows
// modified since; on Redshift they come from SYS_LOAD_HISTORY when it can
// be read, and note says why not otherwise.
func (w *warehouse) tables(ctx context.Context) (out []TableStats, note string, err error) {
	sctx, cancel := context.WithTimeout(ctx, w.timeout+clientGrace)
	snap, err := w.dialect.Snapshot(sctx, backend.Want{Tables: true})
	cancel()
	if err != nil {
		return nil, "", fmt.Errorf("read table statistics: %w", err)
	}
	if e := snap.Errors["tables"]; e != nil {
		return nil, "", fmt.Errorf("read table statistics: %w", e)
	}
	if w.postgres() {
		for _, t := range snap.Tables {
			out = append(out, TableStats{Table: t, RowsLoaded: t.ModifiedSinceAnalyze})
		}
		return out, "", nil
	}
	loaded, note := w.loads(ctx)
	for _, t := range snap.Tables {
		ts := TableStats{Table: t, RowsLoaded: -1}
		if loaded != nil {
			ts.RowsLoaded = loaded[t.Schema+"."+t.Name]
		}
		out = append(out, ts)
	}
	return out, note, nil
}

// loads reads rows loaded per table since its last ANALYZE (Redshift).
func (w *warehouse) loads(ctx context.Context) (map[string]int64, string) {
	res, err := w.query(ctx, "maint_loads")
	if err != nil {
		return nil, "rows loaded since ANALYZE unknown (" + err.Error() + "): stats_off decides"
	}
	out := map[string]int64{}
	for _, row := range res.Rows {
		n, err := row[2].Int()
		if err == nil {
			out[row[0].Text+"."+row[1].Text] = n
		}
	}
	return out, ""
}

// figures reads one table's figures; ok is false when the table is gone.
func (w *warehouse) figures(ctx context.Context, schema, name string) (Figures, bool, error) {
	res, err := w.query(ctx, "maint_figures", schema, name)
	if err != nil {
		return nil, false, err
	}
	if len(res.Rows) == 0 {
		return nil, false, nil
	}
	f := Figures{}
	for i, col := range res.Columns {
		if v, err := res.Rows[0][i].Float(); err == nil {
			f[col] = v
		}
	}
	f.derive()
	return f, true, nil
}

// pipelineState says whether a pipeline run is open and when the pipeline
// last succeeded, from the ledger or from Step Functions.
func (w *warehouse) pipelineState(ctx context.Context) (open bool, last *time.Time, err error) {
	p := w.s.Pipeline
	if p.Kind == spec.PipelineStepFunctions {
		return stepFunctionsState(ctx, w.sfn, p.StateMachineARN)
	}
	sctx, cancel := context.WithTimeout(ctx, w.timeout+clientGrace)
	defer cancel()
	snap, err := w.dialect.Snapshot(sctx, backend.Want{Pipeline: true, PipelineName: p.Name})
	if err != nil {
		return false, nil, err
	}
	if e := snap.Errors["pipeline"]; e != nil {
		var qe *pgwire.QueryError
		if errors.As(e, &qe) && qe.Code == "42P01" {
			// No ledger: nothing records pipeline runs here.
			return false, nil, nil
		}
		return false, nil, fmt.Errorf("read the pipeline ledger: %w", e)
	}
	return snap.Pipeline.Running, snap.Pipeline.LastSuccess, nil
}

func stepFunctionsState(ctx context.Context, sfn StepFunctions, arn string) (bool, *time.Time, error) {
	if sfn == nil {
		return false, nil, errors.New("pipeline.kind is stepfunctions but there is no AWS client")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	running, err := sfn.LatestExecution(ctx, arn, "RUNNING")
	if err != nil {
		return false, nil, err
	}
	ok, err := sfn.LatestExecution(ctx, arn, "SUCCEEDED")
	if err != nil {
		return false, nil, err
	}
	var last *time.Time
	if ok != nil && ok.Stop != nil {
		last = ok.Stop
	}
	return running != nil, last, nil
}

// vacuumRunning says whether another session VACUUMs now.
func (w *warehouse) vacuumRunning(ctx context.Context) (bool, error) {
	res, err := w.query(ctx, "maint_vacuum_running")
	if err != nil {
		return false, err
	}
	row, err := pgwire.One(res)
	if err != nil {
		return false, err
	}
	n, err := row[0].Int()
	return n > 0, err
}

// lock takes dpcops' VACUUM lock on the exec session (PostgreSQL); on
// Redshift there is no advisory lock and it always succeeds. The query is
// not cut short when ctx ends: a query cancelled on the client's side
// drops its session in the background, and a lock granted just then would
// outlive the run in that dying session.
func (w *warehouse) lock(ctx context.Context) (bool, error) {
	if !w.postgres() {
		return true, nil
	}
	res, err := w.execRun(context.WithoutCancel(ctx), pgwire.Query{SQL: w.sql("maint_lock"), Args: []string{strconv.FormatInt(vacuumLockKey, 10)}, Timeout: w.timeout})
	if err != nil {
		return false, err
	}
	row, err := pgwire.One(res)
	if err != nil {
		return false, err
	}
	return row[0].Text == "t", nil
}

// unlock releases the VACUUM lock, and says so when it could not: a
// session that broke has released it already.
func (w *warehouse) unlock(ctx context.Context) error {
	if !w.postgres() {
		return nil
	}
	res, err := w.execRun(ctx, pgwire.Query{SQL: w.sql("maint_unlock"), Args: []string{strconv.FormatInt(vacuumLockKey, 10)}, Timeout: w.timeout})
	if err != nil {
		return fmt.Errorf("release the VACUUM lock: %w", err)
	}
	if row, err := pgwire.One(res); err != nil || row[0].Text != "t" {
		return errors.New("release the VACUUM lock: this session no longer held it (its connection was replaced)")
	}
	return nil
}

// execRun runs one query on the exec session.
func (w *warehouse) execRun(ctx context.Context, q pgwire.Query) (pgwire.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, q.Timeout+clientGrace)
	defer cancel()
	res, err := w.exec.Run(ctx, []pgwire.Query{q})
	if err != nil {
		return pgwire.Result{}, err
	}
	return res[0], res[0].Err
}
