package cli

import (
	"bufio"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/qmr"
	"github.com/dpc-learning/dpcops/internal/runbook"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// runbookEnv is what the runbook commands share: the spec, the store, the
// alarm readers and the warehouse, opened once.
type runbookEnv struct {
	s         *spec.Spec
	st        *store.Store
	engine    *alarm.Engine
	incidents *runbook.Incidents
	w         backend.Warehouse
	sources   runbook.Sources
	rerunner  *runbook.Rerunner
	close     func()
}

// runbookNeeds says what a runbook command opens: the warehouse and AWS,
// and the store for writing (else read-only, so that a mistyped --data is
// an error rather than a new, empty store).
type runbookNeeds struct{ warehouse, write bool }

func (a *app) openRunbook(cmd *cobra.Command, data string, need runbookNeeds) (*runbookEnv, error) {
	s, _, err := a.loadSpec(false)
	if err != nil {
		return nil, err
	}
	ctx := cmd.Context()
	st, err := a.openStore(ctx, data, store.Options{ReadOnly: !need.write})
	if err != nil {
		return nil, err
	}
	e := &runbookEnv{s: s, st: st, incidents: runbook.NewIncidents(s, st)}
	cs := closers{func() { st.Close() }}
	e.close = func() { cs.close() }
	if e.engine, err = alarm.New(alarm.Options{Spec: s, Store: st}); err != nil {
		e.close()
		return nil, err
	}
	e.sources = runbook.Sources{Spec: s, Store: st, Alarms: e.engine}
	e.rerunner = &runbook.Rerunner{Spec: s}
	if !need.warehouse {
		return e, nil
	}
	if w := collect.OpenWarehouse(s); w != nil {
		e.w = w
		cs.add(func() { w.Close() })
		e.sources.Warehouse, e.rerunner.Warehouse = w, w
		col := collect.New(collect.Options{Spec: s, Warehouse: w})
		e.sources.Running = col.Running
	}
	client, err := collect.OpenAWS(ctx, s)
	if err != nil {
		e.close()
		return nil, err
	}
	if client != nil {
		e.sources.SFN, e.rerunner.SFN = client, client
	}
	return e, nil
}

func (a *app) triageCommand() *cobra.Command {
	var since time.Duration
	var format, data string
	cmd := &cobra.Command{
		Use:   "triage",
		Short: "The runbook's first step in one report: alarms, failed step, load errors, failed and long queries, dbt",
		Long: `Gather what the on-call engineer needs first: the alarms in ALARM and their
recent transitions; the pipeline's recent runs and the step that failed;
rejected load rows grouped by file; failed queries; queries running past the
query monitoring threshold; dbt failures from run_results.json (dbt.run_results)
with the exact dbt command to try; storage and compute trends. Each finding
ends with the next command to run.

--format markdown (default) prints a document that starts with a heading;
--format json prints the stable structure docs/runbook.md describes. Triage
reads the warehouse even when a serverless workgroup is idle: you asked.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "markdown" && format != "json" {
				return usageError("--format: want markdown or json, got %q", format)
			}
			// Triage is useful before serve ever ran (it reads the warehouse
			// live); it says so rather than answer from an empty store.
			fresh := !exists(filepath.Join(data, store.FileName))
			e, err := a.openRunbook(cmd, data, runbookNeeds{warehouse: true, write: fresh})
			if err != nil {
				return err
			}
			defer e.close()
			if fresh {
				fmt.Fprintf(a.io.Stderr, "note: %s held no dpcops state (is --data right?): alarms and incidents are empty\n", data)
			}
			r, err := runbook.Triage(cmd.Context(), e.sources, since)
			if err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(a.io.Stdout, r)
			}
			_, err = fmt.Fprint(a.io.Stdout, r.Markdown(e.s.Location()))
			return err
		},
	}
	cmd.Flags().DurationVar(&since, "since", 2*time.Hour, "how far back to look")
	cmd.Flags().StringVar(&format, "format", "markdown", "markdown or json")
	cmd.Flags().StringVar(&data, "data", a.dataDir(), "directory of dpcops' state")
	return cmd
}

// confirm asks on stderr and reads the answer from stdin; only y or yes
// agrees, and no answer (a closed stdin) does not.
func (a *app) confirm(question string, yes bool) error {
	if yes {
		return nil
	}
	fmt.Fprintf(a.io.Stderr, "%s [y/N] ", question)
	line, _ := bufio.NewReader(a.io.Stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return &exitError{code: exitFail, err: errors.New("not confirmed; nothing was done (pass --yes to skip the question)")}
}

func (a *app) recoverCommand() *cobra.Command {
	var yes bool
	var data string
	cmd := &cobra.Command{
		Use:   "recover",
		Short: "Recovery actions of the runbook: rerun-pipeline, cancel-query, offload-plan",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.PersistentFlags().BoolVar(&yes, "yes", false, "do not ask for confirmation")
	cmd.PersistentFlags().StringVar(&data, "data", a.dataDir(), "directory of dpcops' state")
	cmd.AddCommand(&cobra.Command{
		Use:   "rerun-pipeline",
		Short: "Re-run the pipeline (Step Functions StartExecution, or pipeline.rerun_command); refused while a run is in progress",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := a.openRunbook(cmd, data, runbookNeeds{warehouse: true, write: true})
			if err != nil {
				return err
			}
			defer e.close()
			if err := a.confirm(fmt.Sprintf("Re-run pipeline %s?", e.s.Pipeline.Name), yes); err != nil {
				return err
			}
			what, err := e.rerunner.Rerun(cmd.Context())
			if err != nil {
				return err
			}
			text := "re-ran the pipeline by hand: " + what
			if id, err := e.incidents.RecordAction(cmd.Context(), openELTAlarm(e.s), time.Now(), text, nil); err == nil && id > 0 {
				fmt.Fprintf(a.io.Stderr, "recorded in incident %d\n", id)
			}
			fmt.Fprintln(a.io.Stdout, what)
			return nil
		},
	})
	var months int
	var s3, role string
	offload := &cobra.Command{
		Use:   "offload-plan",
		Short: "Print the UNLOAD, Spectrum external table, DELETE and VACUUM that move old rows to S3",
		Long: `Print, largest table first, the SQL that moves rows older than --older-than
to S3 and keeps them readable through Redshift Spectrum: UNLOAD, CREATE
EXTERNAL TABLE, DELETE, VACUUM DELETE ONLY. Nothing is run: review it and
run it yourself. On PostgreSQL there is no UNLOAD; the plan says so.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := a.openRunbook(cmd, data, runbookNeeds{warehouse: true})
			if err != nil {
				return err
			}
			defer e.close()
			if e.s.Warehouse.Engine != spec.EngineRedshiftServerless {
				return fmt.Errorf("offload-plan writes Redshift SQL (UNLOAD, Spectrum); engine %s has no equivalent: export with COPY ... TO, then DELETE and VACUUM", e.s.Warehouse.Engine)
			}
			if e.w == nil {
				return errors.New("warehouse.dsn is empty: the plan needs the tables and their columns")
			}
			snap, err := e.w.Snapshot(cmd.Context(), backend.Want{Tables: true, Columns: true})
			if err != nil {
				return err
			}
			for _, part := range []string{"tables", "columns"} {
				if err := snap.Errors[part]; err != nil {
					return fmt.Errorf("%s: %w", part, err)
				}
			}
			for _, st := range runbook.OffloadPlan(snap.Tables, snap.Columns, months, s3, role) {
				fmt.Fprintf(a.io.Stdout, "-- %s: %s\n%s\n\n", st.Table, st.Why, st.Statement)
			}
			return nil
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "cancel-query ID",
		Short: "Cancel a running query (the pid on PostgreSQL, the query_id on Redshift), recorded on the incident",
		Long: `Cancel the running query ID, as 'dpcops serve' does for a QMR rule with
action abort: pg_cancel_backend on PostgreSQL, CANCEL on Redshift. The
query is looked up among the running ones first, so an ID that is not
running (any more) is an error and nothing is sent. The cancel is
recorded on the open incidents of the compute alarms.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, argv []string) error {
			id, err := strconv.ParseInt(argv[0], 10, 64)
			if err != nil || id <= 0 {
				return usageError("query ID must be a positive number, got %q", argv[0])
			}
			e, err := a.openRunbook(cmd, data, runbookNeeds{write: true})
			if err != nil {
				return err
			}
			defer e.close()
			w, err := qmr.NewWarehouse(e.s)
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			defer w.Close()
			if err := a.confirm(fmt.Sprintf("Cancel query %d?", id), yes); err != nil {
				return err
			}
			q, err := runbook.CancelQuery(cmd.Context(), w, id)
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			runbook.RecordCancel(cmd.Context(), e.incidents, e.s, q, time.Now())
			fmt.Fprintf(a.io.Stdout, "cancelled query %d of %s after %s: %s\n", q.ID, q.User, q.Execution.Round(time.Second), oneLine(q.Text))
			return nil
		},
	})
	offload.Flags().IntVar(&months, "older-than-months", 24, "offload rows older than this many months")
	offload.Flags().StringVar(&s3, "s3-prefix", "s3://BUCKET/offload", "where UNLOAD writes")
	offload.Flags().StringVar(&role, "iam-role", "arn:aws:iam::ACCOUNT:role/ROLE", "the role UNLOAD and Spectrum use")
	cmd.AddCommand(offload)
	return cmd
}

// openELTAlarm names the alarm a manual re-run answers: the one with the
// rerun-pipeline action.
func openELTAlarm(s *spec.Spec) string {
	for _, a := range s.Alarms {
		for _, act := range a.Actions {
			if act == "rerun-pipeline" {
				return a.Name
			}
		}
	}
	return ""
}

func (a *app) incidentsCommand() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "incidents",
		Short: "Incident records: one per alarm episode, with its timeline",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.PersistentFlags().StringVar(&data, "data", a.dataDir(), "directory of dpcops' state")
	withIncident := func(use, short string, args int, need runbookNeeds, run func(cmd *cobra.Command, e *runbookEnv, id int64, rest []string) error) *cobra.Command {
		return &cobra.Command{
			Use: use, Short: short, Args: cobra.ExactArgs(args),
			RunE: func(cmd *cobra.Command, argv []string) error {
				id, err := strconv.ParseInt(argv[0], 10, 64)
				if err != nil {
					return usageError("incident ID must be a number, got %q", argv[0])
				}
				e, err := a.openRunbook(cmd, data, need)
				if err != nil {
					return err
				}
				defer e.close()
				return run(cmd, e, id, argv[1:])
			},
		}
	}
	cmd.AddCommand(&cobra.Command{
		Use: "list", Short: "List incidents, newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := a.openRunbook(cmd, data, runbookNeeds{})
			if err != nil {
				return err
			}
			defer e.close()
			list, err := e.incidents.List(cmd.Context(), 100)
			if err != nil {
				return err
			}
			for _, i := range list {
				closed := "open"
				if i.Closed != nil {
					closed = "closed " + i.Closed.In(e.s.Location()).Format("2006-01-02 15:04")
				}
				fmt.Fprintf(a.io.Stdout, "%d\t%s\t%s\topened %s\t%s\n", i.ID, i.Alarm, i.Severity, i.Opened.In(e.s.Location()).Format("2006-01-02 15:04"), closed)
			}
			return nil
		},
	})
	cmd.AddCommand(withIncident("show ID", "Show an incident and its timeline", 1, runbookNeeds{}, func(cmd *cobra.Command, e *runbookEnv, id int64, _ []string) error {
		rec, err := runbook.Gather(cmd.Context(), e.incidents, runbook.Sources{Spec: e.s, Store: e.st}, id)
		if err != nil {
			return err
		}
		rec.Unavailable = nil
		_, err = fmt.Fprint(a.io.Stdout, rec.Markdown(e.s, time.Now()))
		return err
	}))
	cmd.AddCommand(withIncident("export ID", "Export an incident as Markdown for Confluence or Notion, with its error summary and data quality", 1,
		runbookNeeds{warehouse: true}, func(cmd *cobra.Command, e *runbookEnv, id int64, _ []string) error {
			rec, err := runbook.Gather(cmd.Context(), e.incidents, e.sources, id)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(a.io.Stdout, rec.Markdown(e.s, time.Now()))
			return err
		}))
	cmd.AddCommand(withIncident("note ID TEXT", "Add a note to an incident's timeline", 2, runbookNeeds{write: true}, func(cmd *cobra.Command, e *runbookEnv, id int64, rest []string) error {
		if err := e.incidents.Note(cmd.Context(), id, time.Now(), rest[0]); err != nil {
			return err
		}
		fmt.Fprintf(a.io.Stdout, "noted on incident %d\n", id)
		return nil
	}))
	return cmd
}
