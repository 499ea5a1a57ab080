package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

func (a *app) collectCommand() *cobra.Command {
	var once bool
	var data string
	cmd := &cobra.Command{
		Use:   "collect --once",
		Short: "Run one collection cycle and print its readings as JSON lines",
		Long: `Run one collection cycle over every metric of the spec and print each
reading as a JSON line {"time","metric","dimensions","value","unit"}.
Metrics that could not be read are listed on stderr with the reason; they
are missing, never zero.

With --data the readings are also stored, and the state between cycles
(counter baselines, load-error windows) is kept there, so that counters
report their change from one run to the next. On Redshift Serverless the
wake policy applies: SQL is sent only when the workgroup is busy, after a
pipeline run, or once every collect.idle_sql_interval. With --data it
is refused beside a serve on the same directory, which collects already:
the readings would be stored twice.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !once {
				return usageError("collect runs one cycle: pass --once (dpcops serve collects continuously)")
			}
			s, _, err := a.loadSpec(false)
			if err != nil {
				return err
			}
			c, closeAll, err := a.collector(cmd, s, data)
			if err != nil {
				return err
			}
			defer closeAll()
			res, err := c.Cycle(cmd.Context(), true)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(a.io.Stdout)
			for _, r := range res.Readings {
				if err := enc.Encode(r); err != nil {
					return err
				}
			}
			for _, sk := range res.Skipped {
				fmt.Fprintf(a.io.Stderr, "skipped %s: %s\n", sk.Metric, sk.Reason)
			}
			if len(res.Readings) == 0 && len(res.Skipped) > 0 {
				return &exitError{code: exitFail, err: fmt.Errorf("no metric could be read")}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&once, "once", false, "run one cycle and exit")
	cmd.Flags().StringVar(&data, "data", "", "also store readings and state in this data directory")
	return cmd
}

// collector builds a collector over the spec's backends; the func returned releases
// them.
func (a *app) collector(cmd *cobra.Command, s *spec.Spec, data string) (*collect.Collector, func(), error) {
	opts := collect.Options{Spec: s, Logger: a.logger}
	var cs closers
	if data != "" && s.Store.DSN.IsSet() {
		// Serves that share a PostgreSQL store may start and lead at any
		// moment; a one-off collection beside them would store twice.
		return nil, nil, &exitError{code: exitFail, err: errors.New("collect --once does not write to a PostgreSQL store (store.dsn): its leading serve collects; leave out --data to print one cycle's readings")}
	}
	if data != "" {
		// Exclusive: beside a running serve every datapoint would be
		// stored twice (and counter baselines consumed twice).
		st, err := a.openStore(cmd.Context(), data, store.Options{Exclusive: true})
		if err != nil {
			return nil, nil, err
		}
		cs.add(func() { st.Close() })
		opts.Store = st
	}
	if w := collect.OpenWarehouse(s); w != nil {
		opts.Warehouse = w
		cs.add(func() { w.Close() })
	}
	client, err := collect.OpenAWS(cmd.Context(), s)
	if err != nil {
		cs.close()
		return nil, nil, err
	}
	if client != nil {
		opts.AWS = client
	}
	if opts.Errors, err = collect.OpenErrorLog(cmd.Context(), s, "collect"); err != nil {
		cs.close()
		return nil, nil, err
	}
	return collect.New(opts), cs.close, nil
}

// ledgerInitializer creates the ops schema with the spec's pipeline as
// the default of ops.pipeline_runs.pipeline; both dialects implement it.
type ledgerInitializer interface {
	InitLedger(ctx context.Context, pipeline string) error
}

func (a *app) warehouseCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "warehouse",
		Short: "Prepare the warehouse for dpcops",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "init",
		Short: "Create the ops schema: ops.pipeline_runs and ops.load_errors (idempotent)",
		Long: `Create schema ops in the warehouse with the pipeline's ledger,
ops.pipeline_runs (id, pipeline, started_at, finished_at, status
running|succeeded|failed, failed_step, error) and, on PostgreSQL,
ops.load_errors with the columns of Redshift's SYS_LOAD_ERROR_DETAIL. Any
orchestrator (cron, Airflow, dbt hooks) writes them; dpcops reads them.

The column pipeline defaults to the spec's pipeline.name, so a loader may
write only started_at, finished_at, status, failed_step and error. On
PostgreSQL init sets that default on an existing table too (altering it
only when the default differs); Redshift cannot change an existing
column's default, and init warns when it differs.
Running it again changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, _, err := a.loadSpec(false)
			if err != nil {
				return err
			}
			w := collect.OpenWarehouse(s)
			if w == nil {
				return fmt.Errorf("warehouse.dsn is empty: nothing to initialise")
			}
			defer w.Close()
			err = w.(ledgerInitializer).InitLedger(cmd.Context(), s.Pipeline.Name)
			if errors.Is(err, backend.ErrNoPipelineDefault) {
				// The schema is ready; only the minimal insert is not.
				fmt.Fprintf(a.io.Stderr, "warning: %v\n", err)
			} else if err != nil {
				return fmt.Errorf("warehouse init: %w", err)
			}
			fmt.Fprintf(a.io.Stdout, "ops schema ready (%s)\n", s.Warehouse.Engine)
			return nil
		},
	})
	return cmd
}
