// Command dpcops is the operations plane of the DPC learning platform: it
// watches the warehouse and its ELT pipeline, raises alarms, delivers
// notifications, keeps tables healthy and renders the same design for
// CloudWatch. Run `dpcops --help`.
package main

import (
	"context"
	"os"

	"github.com/dpc-learning/dpcops/internal/cli"

	_ "time/tzdata" // schedules need time zones even where the system has none
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = ""

func main() {
	args := os.Args[1:]
	if len(args) == 0 && os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		// The publisher's function runs this binary as bootstrap, with
		// no arguments, in the directory that holds its dpcops.yaml.
		args = []string{"publish", "--lambda", "--log-format", "json"}
	}
	os.Exit(cli.Main(context.Background(), args, cli.IO{
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
	}, version))
}
