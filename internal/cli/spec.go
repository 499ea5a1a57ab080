package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dpc-learning/dpcops/internal/spec"
)

func (a *app) specCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "spec",
		Short: "Work with the ops spec",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "default",
		Short: "Print the built-in spec: the seed's design, mapped onto what AWS offers",
		Long: `Print the built-in spec as YAML. It is the platform seed's whole design
(metrics, the five alerts and the review alarms, routing through the
dpc-alerts topic, maintenance schedules, the QMR rule, capacity and the
dashboard) with every name corrected to what AWS really publishes.
'dpcops validate' accepts it unchanged; save it as dpcops.yaml to edit it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := a.io.Stdout.Write(spec.DefaultYAML())
			return err
		},
	})
	return cmd
}

func (a *app) validateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check the spec: exit 0 if valid, else print FILE:LINE:COL: error: lines and exit 1",
		Long: `Check the spec strictly: YAML syntax, unknown keys, value types, unset
environment variables, references (alarm → metric and topic, topic →
channel, widget → metric), CloudWatch's rules for periods, evaluation
periods and operators, cron expressions, time zones and capacity limits.

Each problem is printed as FILE:LINE:COL: error: message. Warnings
(FILE:LINE:COL: warning: message) point out where the spec repeats known
mistakes about AWS, such as metric names AWS does not publish; they never
fail the check.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, diags, err := a.loadSpec(true)
			if err != nil {
				return err
			}
			name := s.File()
			fmt.Fprintf(a.io.Stdout, "%s: ok: %d metrics, %d alarms, %d channels, %d maintenance jobs; %d warning(s)\n",
				name, len(s.Metrics), len(s.Alarms), len(s.Channels), len(s.Maintenance), len(diags.Warnings()))
			return nil
		},
	}
}
