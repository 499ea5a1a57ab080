package cli

import (
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/dpc-learning/dpcops/internal/server"
	"github.com/dpc-learning/dpcops/internal/store"
)

func (a *app) serveCommand() *cobra.Command {
	var listen, data, storeDSN string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run dpcops: collect, evaluate alarms, notify, maintain, serve the web UI and API",
		Long: `Run dpcops until interrupted. It keeps its state in --data (an SQLite
database), or in PostgreSQL (spec store.dsn, or --store), serves /healthz, /readyz and /metrics (Prometheus) on --listen,
and stops cleanly on SIGINT or SIGTERM. An unreachable warehouse does not
stop it from starting: collectors report it in their health. One serve
owns a --data directory: a second one exits 1 with "store in use by PID N
on HOST"; the other commands still read and write beside it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, _, err := a.loadSpec(false)
			if err != nil {
				return err
			}
			// Refused before it listens: a second serve on the same
			// --data most often asks for the same port too, and should
			// hear who holds the store rather than that the port is busy.
			if storeDSN == "" && !s.Store.DSN.IsSet() {
				if err := store.CheckNotInUse(data); err != nil {
					return err
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return server.Run(ctx, server.Options{
				Spec:     s,
				DataDir:  data,
				Listen:   listen,
				Logger:   a.logger,
				Version:  a.version,
				StoreDSN: storeDSN,
			})
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "HTTP address (default: the spec's serve.listen, 127.0.0.1:8080)")
	cmd.Flags().StringVar(&data, "data", a.dataDir(), "directory of dpcops' state (with a PostgreSQL store, only the token file)")
	cmd.Flags().StringVar(&storeDSN, "store", "", "PostgreSQL connection string of the state store, instead of --data's SQLite file and the spec's store.dsn (prefer store.dsn: ${DPCOPS_STORE_DSN}: a command line is visible to every local user)")
	return cmd
}
