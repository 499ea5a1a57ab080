package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dpc-learning/dpcops/internal/render"
)

func (a *app) renderCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Render the spec in its AWS-native form: a Terraform module, a CloudWatch dashboard, Step Functions states",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.renderTerraformCommand(), a.renderDashboardCommand(), a.renderCheckCommand(), a.renderStepFunctionsCommand(), a.renderLambdaCommand())
	return cmd
}

func (a *app) renderTerraformCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "terraform --out DIR",
		Short: "Write the spec as Terraform module modules/operations",
		Long: `Write the spec as a Terraform module: versions.tf, variables.tf, alarms.tf,
notifications.tf, capacity.tf, dashboard.tf, maintenance.tf, main.tf,
outputs.tf and a README.md with the steps
(terraform init, plan, apply) and the choices made.

The module is rendered in memory first: a spec item CloudWatch or
EventBridge cannot express is reported with its place in the spec, and
nothing is written. The same spec always renders the same bytes. Files an
earlier rendering wrote that this one no longer renders are removed; other
files in DIR are left alone, though 'render check' reports them as not
part of the module.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError("render terraform needs --out DIR")
			}
			files, err := a.renderModule()
			if err != nil {
				return err
			}
			if err := render.WriteDir(out, files); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			fmt.Fprintf(a.io.Stdout, "wrote %d files to %s\n", len(files), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory of the module (created if missing)")
	return cmd
}

func (a *app) renderDashboardCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "dashboard",
		Short: "Print the spec's dashboard as a CloudWatch dashboard body (JSON)",
		Long: `Print the dashboard body alone, as PutDashboard and
aws_cloudwatch_dashboard take it: the spec's widgets on the 24-column grid,
real metric names, region on every metric and log widget, and the log
widget on the warehouse's real log group.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, _, err := a.loadSpec(false)
			if err != nil {
				return err
			}
			body, err := render.Dashboard(s)
			if err != nil {
				return renderFailed(err)
			}
			_, err = a.io.Stdout.Write(body)
			return err
		},
	}
}

func (a *app) renderCheckCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "check --dir DIR",
		Short: "Exit 1 with a diff when DIR differs from what the spec renders (the pull-request gate)",
		Long: `Render the module in memory and compare it with DIR: a missing, extra or
changed file prints a unified diff (from DIR to the rendering) on stdout
and a summary on stderr, and exits 1. Exit 0 means DIR is exactly what the
spec renders. Hidden entries (.terraform/, .terraform.lock.hcl) and
subdirectories are not part of the module.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return usageError("render check needs --dir DIR")
			}
			files, err := a.renderModule()
			if err != nil {
				return err
			}
			rep, err := render.Check(dir, files)
			if err != nil {
				return err
			}
			if rep.Equal() {
				fmt.Fprintf(a.io.Stdout, "%s: up to date with the spec (%d files)\n", dir, len(files))
				return nil
			}
			fmt.Fprint(a.io.Stdout, rep.Diff)
			fmt.Fprint(a.io.Stderr, rep.Summary())
			return &exitError{code: exitFail, err: fmt.Errorf("%s differs from what the spec renders: run 'dpcops render terraform --out %s' and commit it", dir, dir)}
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory of the module to compare")
	return cmd
}

// renderModule loads the spec and renders the module.
func (a *app) renderModule() (render.Files, error) {
	s, _, err := a.loadSpec(false)
	if err != nil {
		return nil, err
	}
	files, err := render.Terraform(s)
	if err != nil {
		return nil, renderFailed(err)
	}
	return files, nil
}

func (a *app) renderStepFunctionsCommand() *cobra.Command {
	var next string
	cmd := &cobra.Command{
		Use:   "stepfunctions [--next STATE]",
		Short: "Print the Step Functions states that wrap a dbt task in a capacity lease (ASL JSON)",
		Long: `Print Amazon States Language for the capacity lease around the pipeline's dbt
task: RaiseCapacity (UpdateWorkgroup to capacity.lease.batch_max_rpu), RunDbt
(a Parallel whose branch holds the dbt task: replace the DbtTask
placeholder), LowerCapacity (back to normal_max_rpu), and on any failure in
the branch LowerCapacityAfterFailure then DbtFailed, which fails the
execution with dbt's own error. UpdateWorkgroup is retried while the
workgroup is MODIFYING or throttled; a raise that fails still runs dbt, at
normal capacity.

The output is a whole state machine definition, valid as it stands; paste
its states into the pipeline's machine and point the state before dbt at
RaiseCapacity. --next names the pipeline's state after the run (default: the
fragment ends in a Succeed state). The state machine's role needs
redshift-serverless:UpdateWorkgroup and GetWorkgroup: the Terraform module's
capacity_lease_policy_arn. A running dpcops serve adopts the raise, follows
the execution, and lowers what a failed LowerCapacity left behind.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, _, err := a.loadSpec(false)
			if err != nil {
				return err
			}
			out, err := render.StepFunctions(s, render.StepFunctionsOptions{Next: next})
			if err != nil {
				return renderFailed(err)
			}
			_, err = a.io.Stdout.Write(out)
			return err
		},
	}
	cmd.Flags().StringVar(&next, "next", "", "the pipeline's state to go on to after the run (default: end)")
	return cmd
}

// renderFailed ends the command with exit code 1; a *render.Error lists
// each item that cannot be rendered on a line of its own, with its place
// in the spec.
func renderFailed(err error) error {
	return &exitError{code: exitFail, err: err}
}
