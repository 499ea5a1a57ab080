package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpc-learning/dpcops/examples"
	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/demo"
	"github.com/dpc-learning/dpcops/internal/pgcluster"
	"github.com/dpc-learning/dpcops/internal/server"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/web"
)

func (a *app) demoCommand() *cobra.Command {
	var listen, data string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Start a throwaway local PostgreSQL warehouse and serve dpcops on it",
		Long: `Start a throwaway PostgreSQL server (from the system's initdb and pg_ctl),
create a synthetic DPC learning warehouse in it (raw, staging and mart
schemas with generated hospital stays, DPC codes and EF claim lines), run
an ELT pipeline, analysts and table churn on it, and run 'dpcops serve'
with examples/demo.yaml (or the spec given with -c). A scenario makes each
of the seed's alerts fire and resolve within fifteen minutes. Ctrl-C stops
everything and removes the server's files. Nothing is downloaded; no data
is real.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			// A spec the demo cannot run is refused before any server starts.
			if _, err := a.demoSpec(demoDSNCheck, ""); err != nil {
				return err
			}
			// So is a store another serve or demo holds.
			if err := store.CheckNotInUse(data); err != nil {
				return err
			}
			fmt.Fprintln(a.io.Stderr, "starting a throwaway PostgreSQL server...")
			cluster, err := pgcluster.Start(ctx, pgcluster.Options{Logger: a.logger, Durable: true})
			if err != nil {
				return err
			}
			defer func() {
				if err := cluster.Stop(); err != nil {
					a.logger.Warn("stop postgres", "err", err)
				}
			}()
			cctx, cancel := context.WithTimeout(ctx, time.Minute)
			dsn, err := cluster.CreateDatabase(cctx, "dpc")
			cancel()
			if err != nil {
				return err
			}
			s, err := a.demoSpec(dsn, cluster.LogFile())
			if err != nil {
				return err
			}
			fmt.Fprintln(a.io.Stderr, "creating the synthetic DPC warehouse...")
			w := collect.OpenWarehouse(s)
			defer w.Close()
			if err := w.(collect.Initializer).Init(ctx); err != nil {
				return fmt.Errorf("warehouse init: %w", err)
			}
			d, err := demo.Setup(ctx, demo.Options{DSN: dsn, Logger: a.logger.With("component", "demo"), Pipeline: s.Pipeline.Name})
			if err != nil {
				return err
			}
			defer d.Close()
			// The environment file describes this demo only while it runs.
			defer os.Remove(demoEnvFile)
			var wg sync.WaitGroup
			defer wg.Wait()
			wctx, stopWorkload := context.WithCancel(ctx)
			defer stopWorkload()
			wg.Go(func() { d.Run(wctx) })
			return server.Run(ctx, server.Options{
				Spec:    s,
				DataDir: data,
				Listen:  listen,
				Logger:  a.logger,
				Version: a.version,
				Actions: web.Actions{RerunPipeline: d.RunPipeline},
				Rerun:   d.RunPipeline,
				Started: func(addr string) {
					fmt.Fprintf(a.io.Stdout, "dpcops demo: dashboard at http://%s/ (Ctrl-C stops it)\n", addr)
					if !s.Serve.Token.IsSet() {
						fmt.Fprintf(a.io.Stdout, "dpcops demo: actions need the token in %s: sign in at http://%s/login\n",
							filepath.Join(data, server.TokenFile), addr)
					}
					if err := writeDemoEnv(demoEnvFile, a.config, data, dsn, cluster.LogFile(), addr); err != nil {
						a.logger.Warn("cannot write the demo's environment file", "file", demoEnvFile, "err", err)
						return
					}
					fmt.Fprintf(a.io.Stdout, "dpcops demo: in another terminal, `source %s` points every dpcops command at this demo\n", demoEnvFile)
				},
			})
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "HTTP address")
	cmd.Flags().StringVar(&data, "data", "dpcops-demo-data", "directory of dpcops' state")
	return cmd
}

// demoSpec loads the demo's spec with the warehouse variables pointing at
// the throwaway server.
// demoDSNCheck stands in for the throwaway server's DSN when a spec is
// checked before the server starts.
const demoDSNCheck = "postgres://dpcops-demo@127.0.0.1:1/dpc"

func (a *app) demoSpec(dsn, logFile string) (*spec.Spec, error) {
	outer := a.lookupEnv
	env := func(k string) (string, bool) {
		switch k {
		case "DPCOPS_WAREHOUSE_DSN":
			return dsn, true
		case "DPCOPS_WAREHOUSE_LOG":
			return logFile, true
		}
		return outer(k)
	}
	a.lookupEnv = env
	defer func() { a.lookupEnv = outer }()
	// Only a spec given with -c: a ./dpcops.yaml or $DPCOPS_CONFIG left
	// from other work is not the demo's.
	if a.config != "" {
		s, _, err := a.loadSpec(false)
		if err != nil {
			return nil, err
		}
		// The demo's warehouse is its throwaway PostgreSQL.
		if s.Warehouse.Engine != spec.EnginePostgres || s.Warehouse.DSN.Reveal() != dsn {
			return nil, usageError("%s: the demo runs on its own PostgreSQL: the spec needs warehouse.engine: postgres and warehouse.dsn: ${DPCOPS_WAREHOUSE_DSN}", a.config)
		}
		return s, nil
	}
	s, diags := spec.Parse("examples/demo.yaml", examples.Demo, spec.Options{LookupEnv: env})
	if diags.HasErrors() {
		return nil, fmt.Errorf("demo spec: %w", diags.Errors())
	}
	return s, nil
}

// demoEnvFile is where the demo writes, once it serves, the environment
// that points the CLI at it.
const demoEnvFile = "dpcops-demo.env"

// writeDemoEnv writes the shell environment of a running demo: its spec
// (the one given with -c, else the built-in demo spec written beside its
// state), its state directory, the variables the spec reads, and its URL.
// The file is the user's own (0600): the DSN may carry a password.
func writeDemoEnv(file, config, data, dsn, pgLog, addr string) error {
	dataAbs, err := filepath.Abs(data)
	if err != nil {
		return err
	}
	specFile := config
	if specFile == "" {
		specFile = filepath.Join(dataAbs, "demo.yaml")
		if err := os.WriteFile(specFile, examples.Demo, 0o600); err != nil {
			return err
		}
	} else if specFile, err = filepath.Abs(config); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("# dpcops demo: `source` this file to point dpcops commands at the running demo.\n")
	for _, kv := range [][2]string{
		{EnvConfig, specFile},
		{EnvData, dataAbs},
		{"DPCOPS_WAREHOUSE_DSN", dsn},
		{"DPCOPS_WAREHOUSE_LOG", pgLog},
		{"DPCOPS_URL", "http://" + addr},
	} {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

// shellQuote quotes v for a POSIX shell.
func shellQuote(v string) string {
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
