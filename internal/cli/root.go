package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// IO is where a command reads and writes.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// DefaultConfig is the spec file used when -c is not given and it exists.
const DefaultConfig = "dpcops.yaml"

// The environment the CLI reads its defaults from: the spec when -c is
// not given, and the state directory when --data is not. `dpcops demo`
// writes both to dpcops-demo.env, so that a second terminal that sources
// it points every command at the running demo.
const (
	EnvConfig = "DPCOPS_CONFIG"
	EnvData   = "DPCOPS_DATA"
)

// DefaultData is the state directory when neither --data nor DPCOPS_DATA
// says otherwise.
const DefaultData = "dpcops-data"

// dataDir is the default of a command's --data flag: DPCOPS_DATA, else
// DefaultData.
func (a *app) dataDir() string {
	if v := a.getenv(EnvData); v != "" {
		return v
	}
	return DefaultData
}

// getenv reads the app's environment ("" for unset, or for an app built
// without one).
func (a *app) getenv(k string) string {
	if a.lookupEnv == nil {
		return ""
	}
	v, _ := a.lookupEnv(k)
	return v
}

// app holds what every command shares: the global flags and the streams.
type app struct {
	io        IO
	version   string
	config    string
	logFormat string
	logLevel  string
	logger    *slog.Logger
	lookupEnv func(string) (string, bool)
}

// exitError carries an exit code; its message has been printed already
// when silent is set.
type exitError struct {
	code   int
	err    error
	silent bool
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks a bad command line.
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// Main runs dpcops with args and returns the exit code.
func Main(ctx context.Context, args []string, streams IO, version string) int {
	return mainWithEnv(ctx, args, streams, version, os.LookupEnv)
}

func mainWithEnv(ctx context.Context, args []string, streams IO, version string, lookupEnv func(string) (string, bool)) int {
	a := &app{io: streams, version: versionString(version), lookupEnv: lookupEnv}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(streams.Stdin)
	root.SetOut(streams.Stdout)
	root.SetErr(streams.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if !ee.silent {
			fmt.Fprintf(streams.Stderr, "dpcops: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(streams.Stderr, "dpcops: %v\n", err)
	if isUsage(err) {
		fmt.Fprintln(streams.Stderr, "Run 'dpcops --help' for usage.")
		return exitUsage
	}
	return exitFail
}

// isUsage recognises cobra's own command-line errors by how they begin
// (an error that merely contains "invalid argument", such as EINVAL from
// a write, is not one).
func isUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "requires exactly"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

func versionString(v string) string {
	if v != "" {
		return v
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}
	return "dev"
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "dpcops",
		Short: "Operations plane of the DPC learning platform on Redshift Serverless",
		Long: `dpcops watches the warehouse and its ELT pipeline, raises the alarms of the
ops spec, delivers notifications without losing or repeating them, keeps
tables healthy, stops runaway queries, and renders the same design as a
Terraform module for CloudWatch.

The spec is the file given with -c/--config, else $DPCOPS_CONFIG, else
./dpcops.yaml if it exists, else the built-in spec (print it with 'dpcops
spec default'). The state directory is --data, else $DPCOPS_DATA, else
./dpcops-data.`,
		Version:       a.version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.setupLogging()
		},
	}
	root.SetVersionTemplate("dpcops {{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVarP(&a.config, "config", "c", "", "spec file (default $DPCOPS_CONFIG, else ./dpcops.yaml if it exists, else the built-in spec; - reads stdin)")
	pf.StringVar(&a.logFormat, "log-format", "text", "log format: text or json")
	pf.StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.AddCommand(
		a.specCommand(),
		a.validateCommand(),
		a.serveCommand(),
		a.demoCommand(),
		a.backtestCommand(),
		a.collectCommand(),
		a.publishCommand(),
		a.warehouseCommand(),
		a.notifyCommand(),
		a.silenceCommand(),
		a.renderCommand(),
		a.triageCommand(),
		a.recoverCommand(),
		a.incidentsCommand(),
		a.maintenanceCommand(),
		a.capacityCommand(),
	)
	return root
}

func (a *app) setupLogging() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
		return usageError("--log-level: want debug, info, warn or error, got %q", a.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch a.logFormat {
	case "text":
		a.logger = slog.New(slog.NewTextHandler(a.io.Stderr, opts))
	case "json":
		a.logger = slog.New(slog.NewJSONHandler(a.io.Stderr, opts))
	default:
		return usageError("--log-format: want text or json, got %q", a.logFormat)
	}
	return nil
}

// specPath returns the spec file to load, "" for the built-in spec.
func (a *app) specPath() string {
	if a.config != "" {
		return a.config
	}
	if v := a.getenv(EnvConfig); v != "" {
		return v
	}
	if _, err := os.Stat(DefaultConfig); err == nil {
		return DefaultConfig
	}
	return ""
}

// loadSpec loads the spec the global flags name. Diagnostics go to stderr,
// one per line; errors end the command with exit code 1.
func (a *app) loadSpec(showWarnings bool) (*spec.Spec, spec.Diagnostics, error) {
	opts := spec.Options{LookupEnv: a.lookupEnv, Stdin: a.io.Stdin}
	path := a.specPath()
	var s *spec.Spec
	var diags spec.Diagnostics
	if path == "" {
		s, diags = spec.Default(opts)
	} else {
		var err error
		s, diags, err = spec.Load(path, opts)
		if err != nil {
			return nil, nil, &exitError{code: exitFail, err: fmt.Errorf("read spec: %w", err)}
		}
	}
	for _, d := range diags {
		if d.Severity == spec.Error || showWarnings {
			fmt.Fprintln(a.io.Stderr, d.String())
		}
	}
	if diags.HasErrors() {
		n := len(diags.Errors())
		return nil, diags, &exitError{code: exitFail, silent: true, err: fmt.Errorf("spec has %d error(s)", n)}
	}
	if !showWarnings {
		for _, d := range diags.Warnings() {
			a.logger.Warn("spec warning", "at", d.Pos.String(), "msg", d.Message)
		}
	}
	return s, diags, nil
}
