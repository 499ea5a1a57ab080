package cli

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpc-learning/dpcops/internal/capacity"
	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/lease"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// leaseFlags are the flags raise and lower share.
type leaseFlags struct {
	data, by, reason, format string
}

func (f *leaseFlags) bind(cmd *cobra.Command, dataDir string) {
	cmd.Flags().StringVar(&f.data, "data", dataDir, "directory of dpcops' state (the lease ledger)")
	cmd.Flags().StringVar(&f.by, "by", "", "who asks, recorded with the change (default: the OS user)")
	cmd.Flags().StringVar(&f.reason, "reason", "", "why, recorded with the change")
	cmd.Flags().StringVar(&f.format, "format", "text", "output format: text or json")
}

func (f *leaseFlags) who() string {
	if f.by != "" {
		return f.by
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "dpcops cli"
}

// openLease opens the store and a lease manager over the spec's
// backends, for one command.
func (a *app) openLease(ctx context.Context, data string) (*spec.Spec, *lease.Manager, func(), error) {
	s, _, err := a.loadSpec(false)
	if err != nil {
		return nil, nil, nil, err
	}
	if s.Capacity.Lease == nil {
		return nil, nil, nil, usageError("the spec has no capacity.lease: add normal_max_rpu, batch_max_rpu, max_duration and pipelines (docs/capacity-lease.md)")
	}
	st, err := a.openStore(ctx, data, store.Options{})
	if err != nil {
		return nil, nil, nil, err
	}
	cs := closers{func() { st.Close() }}
	var b lease.Backends
	if w := collect.OpenWarehouse(s); w != nil {
		b.Warehouse = w
		cs.add(func() { w.Close() })
	}
	client, err := collect.OpenAWS(ctx, s)
	if err != nil {
		cs.close()
		return nil, nil, nil, &exitError{code: exitFail, err: err}
	}
	if client != nil {
		b.SFN = client
	}
	m, err := lease.Open(ctx, s, st, b, a.logger)
	if err != nil {
		cs.close()
		return nil, nil, nil, &exitError{code: exitFail, err: err}
	}
	return s, m, cs.close, nil
}

// leaseResult is what raise and lower print as JSON.
type leaseResult struct {
	Lease lease.Lease `json:"lease"`
	Did   string      `json:"did"`
}

func (a *app) capacityRaiseCommand() *cobra.Command {
	var f leaseFlags
	var pipeline string
	var to int
	var dur time.Duration
	cmd := &cobra.Command{
		Use:   "raise --pipeline NAME [--to RPU] [--for DURATION]",
		Short: "Lease the batch max capacity for a pipeline's run (UpdateWorkgroup), lowered again when it ends",
		Long: `Raise the workgroup's max capacity (default capacity.lease.batch_max_rpu)
for one of capacity.lease.pipelines and record a lease in --data. A second
raise while a lease is open extends it (the later end and the higher
capacity win) instead of stacking. dpcops serve lowers the lease when it
expires, when the pipeline run it belongs to ends or fails, or at start-up
if it finds it expired; 'dpcops capacity lower' lowers it on request.

On PostgreSQL there is no capacity to change: the lease is recorded only,
and the command says so.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(f.format); err != nil {
				return err
			}
			if pipeline == "" {
				return usageError("--pipeline is required (one of capacity.lease.pipelines)")
			}
			if dur < 0 || to < 0 {
				return usageError("--to and --for must be positive")
			}
			_, m, closeAll, err := a.openLease(cmd.Context(), f.data)
			if err != nil {
				return err
			}
			defer closeAll()
			l, did, err := m.Raise(cmd.Context(), lease.Request{Pipeline: pipeline, To: to, For: dur, Who: f.who(), Why: f.reason})
			if errors.Is(err, lease.ErrRefused) {
				return usageError("%v", err)
			}
			if err != nil {
				return &exitError{code: exitFail, err: fmt.Errorf("capacity raise: %w", err)}
			}
			if f.format == "json" {
				return writeJSON(a.io.Stdout, leaseResult{l, did})
			}
			fmt.Fprintf(a.io.Stdout, "lease %d: %d RPU for %s until %s\n%s\n", l.ID, l.RaisedTo, l.Pipeline, l.Expires.Format(time.RFC3339), did)
			return nil
		},
	}
	f.bind(cmd, a.dataDir())
	cmd.Flags().StringVar(&pipeline, "pipeline", "", "the pipeline asking (one of capacity.lease.pipelines)")
	cmd.Flags().IntVar(&to, "to", 0, "max capacity in RPU (default: capacity.lease.batch_max_rpu)")
	cmd.Flags().DurationVar(&dur, "for", 0, "how long at most (default: capacity.lease.max_duration)")
	return cmd
}

func (a *app) capacityLowerCommand() *cobra.Command {
	var f leaseFlags
	var id int64
	cmd := &cobra.Command{
		Use:   "lower [--lease ID]",
		Short: "Lower the workgroup to normal max capacity and close the open lease",
		Long: `Set the workgroup's max capacity back to capacity.lease.normal_max_rpu and
close the open lease (or lease --lease, when it is the open one). With no
open lease it says so and succeeds, so a pipeline's cleanup step may always
call it. A lower that fails leaves the lease open with the error recorded:
dpcops serve retries it and Alert-Capacity-Lease fires.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(f.format); err != nil {
				return err
			}
			_, m, closeAll, err := a.openLease(cmd.Context(), f.data)
			if err != nil {
				return err
			}
			defer closeAll()
			why := f.reason
			if why == "" {
				why = "lowered on request"
			}
			l, did, err := m.Lower(cmd.Context(), id, f.who(), why)
			if errors.Is(err, lease.ErrNoLease) {
				msg := "no open capacity lease: nothing to lower"
				if id != 0 {
					msg = "lease " + strconv.FormatInt(id, 10) + " is not open: nothing to lower"
				}
				if f.format == "json" {
					return writeJSON(a.io.Stdout, map[string]string{"did": msg})
				}
				fmt.Fprintln(a.io.Stdout, msg)
				return nil
			}
			if err != nil {
				return &exitError{code: exitFail, err: fmt.Errorf("capacity lower: %w", err)}
			}
			if f.format == "json" {
				return writeJSON(a.io.Stdout, leaseResult{l, did})
			}
			fmt.Fprintf(a.io.Stdout, "lease %d closed: %s\n", l.ID, did)
			return nil
		},
	}
	f.bind(cmd, a.dataDir())
	cmd.Flags().Int64Var(&id, "lease", 0, "the lease to lower (default: the open one)")
	return cmd
}

// leaseWithEvents is a lease with its changes, as leases --format json
// prints it.
type leaseWithEvents struct {
	lease.Lease
	Events []lease.Event `json:"events"`
}

func (a *app) capacityLeasesCommand() *cobra.Command {
	var month, format, data string
	cmd := &cobra.Command{
		Use:   "leases [--month YYYY-MM]",
		Short: "List the month's capacity leases and every change to them, with who and why",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			s, _, err := a.loadSpec(false)
			if err != nil {
				return err
			}
			loc := s.Location()
			from, err := capacity.ParseMonth(month, loc, time.Now())
			if err != nil {
				return usageError("--month: %v", err)
			}
			to := from.AddDate(0, 1, 0)
			st, err := a.openStore(cmd.Context(), data, store.Options{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			ls, err := lease.List(cmd.Context(), st, from, to)
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			out := make([]leaseWithEvents, len(ls))
			for i, l := range ls {
				evs, err := lease.ListEvents(cmd.Context(), st, l.ID)
				if err != nil {
					return &exitError{code: exitFail, err: err}
				}
				out[i] = leaseWithEvents{l, evs}
			}
			if format == "json" {
				return writeJSON(a.io.Stdout, out)
			}
			if len(out) == 0 {
				fmt.Fprintf(a.io.Stdout, "no capacity leases in %s\n", from.Format("2006-01"))
				return nil
			}
			tw := tabwriter.NewWriter(a.io.Stdout, 0, 4, 2, ' ', 0)
			for _, l := range out {
				state := "open until " + l.Expires.In(loc).Format("2006-01-02 15:04")
				if l.Closed != nil {
					state = "closed " + l.Closed.In(loc).Format("2006-01-02 15:04") + ": " + l.CloseReason
				}
				fmt.Fprintf(tw, "lease %d\t%s\t%d→%d RPU\tfrom %s\t%s\n", l.ID, dash(l.Pipeline), l.Normal, l.RaisedTo,
					l.Started.In(loc).Format("2006-01-02 15:04"), state)
				for _, e := range l.Events {
					fmt.Fprintf(tw, "\t%s\t%s\t%s\t%s\n", e.At.In(loc).Format("01-02 15:04:05"), e.Event, e.Who, e.Detail)
				}
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&month, "month", "", "month to list, YYYY-MM (default: this month)")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().StringVar(&data, "data", a.dataDir(), "directory of dpcops' state")
	return cmd
}
