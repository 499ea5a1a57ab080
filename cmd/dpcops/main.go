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
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.IO{
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
	}, version))
}
