package cli

import (
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/dpc-learning/dpcops/internal/server"
)

func (a *app) serveCommand() *cobra.Command {
	var listen, data string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run dpcops: collect, evaluate alarms, notify, maintain, serve the web UI and API",
		Long: `Run dpcops until interrupted. It keeps its state in --data (an SQLite
database), serves /healthz, /readyz and /metrics (Prometheus) on --listen,
and stops cleanly on SIGINT or SIGTERM. An unreachable warehouse does not
stop it from starting: collectors report it in their health.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, _, err := a.loadSpec(false)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return server.Run(ctx, server.Options{
				Spec:    s,
				DataDir: data,
				Listen:  listen,
				Logger:  a.logger,
				Version: a.version,
			})
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "HTTP address (default: the spec's serve.listen, 127.0.0.1:8080)")
	cmd.Flags().StringVar(&data, "data", "dpcops-data", "directory of dpcops' state")
	return cmd
}
