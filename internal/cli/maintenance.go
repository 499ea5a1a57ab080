package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpc-learning/dpcops/internal/capacity"
	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/maintain"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

func (a *app) maintenanceCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "maintenance",
		Short: "Plan and run VACUUM, ANALYZE and ANALYZE COMPRESSION; show past runs",
		Long: `The spec's maintenance jobs keep the warehouse's tables healthy. 'plan'
says which tables need work and why, from SVV_TABLE_INFO (Redshift) or
pg_stat_user_tables (PostgreSQL); 'run' runs a job the way 'dpcops serve'
runs it on schedule: one statement at a time in autocommit, one VACUUM at a
time, never while a pipeline run is open, each run recorded in --data.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.maintenancePlanCommand(), a.maintenanceRunCommand(), a.maintenanceRunsCommand(), a.maintenanceCompressionCommand())
	return cmd
}

func checkFormat(f string) error {
	if f != "text" && f != "json" {
		return usageError("--format: want text or json, got %q", f)
	}
	return nil
}

func (a *app) maintenancePlanCommand() *cobra.Command {
	var format, job, data string
	cmd := &cobra.Command{
		Use:   "plan [--format json|text] [--job NAME]",
		Short: "Say which tables need VACUUM or ANALYZE, and why",
		Long: `Read the table statistics once and plan every enabled job (auto and
manual), or only --job. Only tables that need work appear. With --format
json the plan is a JSON array of {"job","table","statement","reason",
"action"}: table is schema.table; statement is the SQL that 'run' would
send, "" for advice people act on (a deep copy, a capacity review, a job
with nothing to run on this engine). With --data, capacity_review jobs are
planned from the stored compute series.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			s, _, err := a.loadSpec(false)
			if err != nil {
				return err
			}
			r, closeAll, err := a.maintenanceRunner(cmd.Context(), s, data, true)
			if err != nil {
				return err
			}
			defer closeAll()
			var items []maintain.Item
			if job != "" {
				items, err = r.PlanJob(cmd.Context(), job)
			} else {
				items, err = r.Plan(cmd.Context())
			}
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			if format == "json" {
				return writeJSON(a.io.Stdout, nonNil(items))
			}
			return writePlan(a.io.Stdout, items)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().StringVar(&job, "job", "", "plan only this job")
	cmd.Flags().StringVar(&data, "data", "", "data directory whose compute series plan capacity_review jobs")
	return cmd
}

// exitSkipped is the exit status of maintenance run when a job did not run
// because a pipeline run was open and did not end within --wait.
const exitSkipped = 3

func (a *app) maintenanceRunCommand() *cobra.Command {
	var format, job, data string
	var dryRun bool
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "run [--job NAME] [--dry-run] [--wait DURATION]",
		Short: "Run a maintenance job now (every enabled auto job without --job)",
		Long: `Run --job now, manual jobs included, or every enabled auto job. Each
statement runs in autocommit on a session named dpcops-maintenance, under
the job's timeout; a VACUUM waits for any other VACUUM. Nothing starts
while a pipeline run is open: the job waits up to --wait (default 30m) for
the run to end, saying on stderr which run it waits for (pipeline, id,
start) and, every minute, how long it has waited; then it runs, or is
recorded as skipped. --wait 0 does not wait: a job that meets an open run
is skipped at once. Every run is recorded in --data with its before and
after figures. --dry-run prints what would run and records nothing.

Exit status: 1 if a statement failed or was cancelled; else 3 if a job
was skipped because a pipeline run was open; else 0 (other skips, such as
a table another session holds, show in the output).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			if wait < 0 {
				return usageError("--wait: want a duration of 0 or more (0: do not wait), got %s", wait)
			}
			s, _, err := a.loadSpec(false)
			if err != nil {
				return err
			}
			r, closeAll, err := a.maintenanceRunner(cmd.Context(), s, data, dryRun, func(o *maintain.Options) {
				o.PipelineWait = wait
				if wait == 0 {
					o.PipelineWait = maintain.NoWait
				}
			})
			if err != nil {
				return err
			}
			defer closeAll()
			runs, runErr := r.Run(cmd.Context(), job, dryRun)
			if err := writeRuns(a.io.Stdout, format, runs, s.Location()); err != nil {
				return err
			}
			return runExit(runs, runErr)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().StringVar(&job, "job", "", "run only this job (manual jobs run only when named)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would run; run and record nothing")
	cmd.Flags().DurationVar(&wait, "wait", 30*time.Minute, "how long a job waits for an open pipeline run to end before it is skipped (exit status 3); 0 skips at once")
	cmd.Flags().StringVar(&data, "data", a.dataDir(), "directory of dpcops' state, where runs are recorded")
	return cmd
}

// runExit turns the runs of 'maintenance run' into its exit status: a
// failure first, then a skip for an open pipeline run.
func runExit(runs []maintain.Run, runErr error) error {
	if runErr != nil {
		return &exitError{code: exitFail, err: runErr}
	}
	for _, run := range runs {
		if run.Outcome == maintain.OutcomeFailed || run.Outcome == maintain.OutcomeCancelled {
			return &exitError{code: exitFail, err: fmt.Errorf("%s on %s %s: %s", run.Job, run.Target, run.Outcome, run.Error)}
		}
	}
	for _, run := range runs {
		if run.SkippedForPipeline() {
			return &exitError{code: exitSkipped, err: fmt.Errorf("job %s skipped: %s", run.Job, run.Error)}
		}
	}
	return nil
}

func (a *app) maintenanceRunsCommand() *cobra.Command {
	var format, data string
	var limit int
	cmd := &cobra.Command{
		Use:   "runs [--limit N]",
		Short: "List recorded maintenance runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			s, _, err := a.loadSpec(false)
			if err != nil {
				return err
			}
			st, err := a.openStore(cmd.Context(), data, store.Options{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			runs, err := maintain.ReadRuns(cmd.Context(), st, limit)
			if err != nil {
				return err
			}
			return writeRuns(a.io.Stdout, format, runs, s.Location())
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().IntVar(&limit, "limit", 50, "how many runs")
	cmd.Flags().StringVar(&data, "data", a.dataDir(), "directory of dpcops' state")
	return cmd
}

func (a *app) maintenanceCompressionCommand() *cobra.Command {
	var format, data string
	cmd := &cobra.Command{
		Use:   "compression",
		Short: "Show the latest ANALYZE COMPRESSION report of each table (Redshift)",
		Long: `Show the encodings Redshift recommended in the latest ANALYZE COMPRESSION
of each table (Table, Column, Encoding, Est_reduction_pct), as recorded by
analyze_compression jobs. PostgreSQL has no equivalent.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			st, err := a.openStore(cmd.Context(), data, store.Options{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			rows, err := maintain.ReadCompression(cmd.Context(), st)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(a.io.Stdout, nonNil(rows))
			}
			tw := tabwriter.NewWriter(a.io.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TABLE\tCOLUMN\tENCODING\tEST_REDUCTION_PCT\tRUN")
			for _, c := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%d\n", c.Table, c.Column, c.Encoding, c.EstReductionPct, c.RunID)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().StringVar(&data, "data", a.dataDir(), "directory of dpcops' state")
	return cmd
}

// runClock is the clock a maintenance runner waits by. Tests put a fake
// one in the command's context (runClockKey), so that a wait for a
// pipeline run takes no time; without one the runner uses the real clock.
type runClock struct {
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

type runClockKey struct{}

// maintenanceRunner opens the runner over the spec's warehouse, with a
// store in data: read-only and optional when readOnly (plans, dry runs),
// else created if need be. mod adjusts the runner's options.
func (a *app) maintenanceRunner(ctx context.Context, s *spec.Spec, data string, readOnly bool, mod ...func(*maintain.Options)) (*maintain.Runner, func(), error) {
	o := maintain.Options{Spec: s, Logger: a.logger}
	if c, ok := ctx.Value(runClockKey{}).(runClock); ok {
		o.Now, o.Sleep = c.now, c.sleep
	}
	for _, m := range mod {
		m(&o)
	}
	var cs closers
	if data != "" && (!readOnly || exists(filepath.Join(data, store.FileName))) {
		st, err := a.openStore(ctx, data, store.Options{ReadOnly: readOnly})
		if err != nil {
			return nil, nil, err
		}
		cs.add(func() { st.Close() })
		o.Store = st
		o.AtMaxCapacity = capacity.AtMaxFunc(st, s, time.Now)
	}
	client, err := collect.OpenAWS(ctx, s)
	if err != nil {
		cs.close()
		return nil, nil, err
	}
	if client != nil {
		o.StepFunctions = client
	}
	r, err := maintain.NewRunner(o)
	if err != nil {
		cs.close()
		return nil, nil, &exitError{code: exitFail, err: err}
	}
	cs.add(func() { r.Close() })
	return r, cs.close, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// nonNil makes an empty list print as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func writePlan(w io.Writer, items []maintain.Item) error {
	if len(items) == 0 {
		_, err := fmt.Fprintln(w, "No table needs maintenance.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tTABLE\tSTATEMENT\tREASON")
	for _, it := range items {
		stmt := it.Statement
		if stmt == "" {
			stmt = "(advice: " + it.Action + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.Job, dash(it.Table), stmt, it.Reason)
	}
	return tw.Flush()
}

func writeRuns(w io.Writer, format string, runs []maintain.Run, loc *time.Location) error {
	if format == "json" {
		return writeJSON(w, nonNil(runs))
	}
	if len(runs) == 0 {
		_, err := fmt.Fprintln(w, "Nothing to run.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STARTED\tJOB\tTABLE\tOUTCOME\tTOOK\tSTATEMENT\tWHY")
	for _, r := range runs {
		why := r.Reason
		if r.Error != "" {
			why = strings.TrimSpace(r.Error + "; " + r.Reason)
		}
		took := "-"
		if r.FinishedAt != nil {
			took = r.Duration().Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.StartedAt.In(loc).Format("2006-01-02 15:04:05"), r.Job, dash(r.Target),
			r.Outcome, took, dash(r.Statement), strings.TrimSuffix(why, "; "))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
