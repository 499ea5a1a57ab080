package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpc-learning/dpcops/internal/capacity"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

func (a *app) capacityCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "capacity",
		Short: "Compute use and cost against the budget; the capacity lease",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.capacityReportCommand(), a.capacityRaiseCommand(), a.capacityLowerCommand(), a.capacityLeasesCommand())
	return cmd
}

func (a *app) capacityReportCommand() *cobra.Command {
	var month, format, data string
	var sysUsage bool
	cmd := &cobra.Command{
		Use:   "report [--month YYYY-MM] [--format json|text]",
		Short: "RPU-hours, cost and forecast against the usage limit, and whether max_rpu is right",
		Long: `Report a month (default: this one, in the spec's time zone) from the compute
series stored in --data: RPU-hours and cost to date, the forecast to month
end against capacity.usage_limit, the share of busy time spent at max_rpu,
queueing (a stored QueriesQueued series, or SYS_QUERY_HISTORY with
--sys-usage), what other max_rpu values would have cost, and advice. On
PostgreSQL the same report reads active backends as RPU and max_rpu as
slots.

--sys-usage also reads SYS_SERVERLESS_USAGE (the last 7 days, with the
60-second minimum billing) over SQL: it needs superuser and wakes an idle
workgroup, so it is off by default.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			s, _, err := a.loadSpec(false)
			if err != nil {
				return err
			}
			m, err := capacity.ParseMonth(month, s.Location(), time.Now())
			if err != nil {
				return usageError("--month: %v", err)
			}
			st, err := a.openStore(cmd.Context(), data, store.Options{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			o := capacity.Options{Spec: s, Store: st}
			if sysUsage {
				if s.Warehouse.Engine != spec.EngineRedshiftServerless {
					return usageError("--sys-usage reads SYS_SERVERLESS_USAGE, which only Redshift Serverless has")
				}
				w, err := capacity.NewWarehouse(s)
				if err != nil {
					return &exitError{code: exitFail, err: err}
				}
				defer w.Close()
				o.Usage = w
			}
			r, err := capacity.Build(cmd.Context(), o, m)
			if err != nil {
				return &exitError{code: exitFail, err: fmt.Errorf("capacity report: %w", err)}
			}
			if format == "json" {
				return writeJSON(a.io.Stdout, r)
			}
			return r.WriteText(a.io.Stdout, s.Location())
		},
	}
	cmd.Flags().StringVar(&month, "month", "", "month to report, YYYY-MM (default: this month)")
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().StringVar(&data, "data", a.dataDir(), "directory of dpcops' state (the stored compute series)")
	cmd.Flags().BoolVar(&sysUsage, "sys-usage", false, "also read SYS_SERVERLESS_USAGE and SYS_QUERY_HISTORY (Redshift; wakes the workgroup)")
	return cmd
}
