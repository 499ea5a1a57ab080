package cli

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dpc-learning/dpcops/internal/alarm"
)

func (a *app) backtestCommand() *cobra.Command {
	var data, until, only string
	cmd := &cobra.Command{
		Use:   "backtest --data FILE.csv [--until RFC3339] [--alarm NAME]",
		Short: "Replay past datapoints through the spec's alarms and print every transition",
		Long: `Replay datapoints from a CSV file through the spec's alarms, exactly as
'dpcops serve' would evaluate them, to tune thresholds before deploying.

The file starts with the header time,metric,value (or
time,metric,value,dimensions); each row is one datapoint with an RFC 3339
time and, optionally, dimensions written k=v;k=v. A row without dimensions
belongs to the metric's own dimensions in the spec. Rows may come in any
order; of two rows of one series at one time the later wins. Lines
starting with # are comments. Rows of metrics the spec does not define
and rows whose value is NaN or infinite are skipped with a warning. A
malformed row stops the replay with FILE:LINE: message.

Every enabled alarm (or only --alarm NAME, even if disabled) starts in
INSUFFICIENT_DATA and is evaluated at each end t of its periods, from the
end of the period holding the earliest row to --until (default: the end of
the period holding the latest row). Each transition is printed as one
JSON line {"time","alarm","from","to","reason"}. docs/alarms.md explains
the evaluation.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.backtest(data, until, only)
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "", "CSV file of datapoints: time,metric,value[,dimensions] (required)")
	f.StringVar(&until, "until", "", "last evaluation time, RFC 3339 (default: the end of the period of the latest row)")
	f.StringVar(&only, "alarm", "", "replay only this alarm")
	return cmd
}

func (a *app) backtest(path, until, only string) error {
	if path == "" {
		return usageError("backtest: --data FILE.csv is required")
	}
	opts := alarm.ReplayOptions{Alarm: only}
	if until != "" {
		t, err := time.Parse(time.RFC3339Nano, until)
		if err != nil {
			return usageError("--until: want an RFC 3339 time such as 2026-11-27T03:00:00Z, got %q", alarm.Excerpt(until))
		}
		opts.Until = t
	}
	s, _, err := a.loadSpec(false)
	if err != nil {
		return err
	}
	if _, ok := s.Alarm(only); only != "" && !ok {
		names := make([]string, len(s.Alarms))
		for i, al := range s.Alarms {
			names[i] = al.Name
		}
		return usageError("--alarm: the spec has no alarm %q (it has %s)", alarm.Excerpt(only), strings.Join(names, ", "))
	}
	ds, err := a.readBacktestData(path)
	if err != nil {
		return err
	}
	res, err := alarm.Replay(s, ds, opts)
	if err != nil {
		return &exitError{code: exitFail, err: err}
	}
	a.warnSkipped(path, ds, res)
	return alarm.WriteJSONLines(a.io.Stdout, res.Transitions)
}

// readBacktestData reads the CSV file. Its errors already say FILE:LINE:
// and are printed as they are, as validate prints its diagnostics.
func (a *app) readBacktestData(path string) (*alarm.Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &exitError{code: exitFail, err: fmt.Errorf("read data: %w", err)}
	}
	defer f.Close()
	ds, err := alarm.ReadCSV(path, f)
	if err != nil {
		fmt.Fprintln(a.io.Stderr, err)
		return nil, &exitError{code: exitFail, err: err, silent: true}
	}
	return ds, nil
}

// warnSkipped tells what the replay left out, so that a typo in a metric
// name does not pass for "no alarm fired".
func (a *app) warnSkipped(path string, ds *alarm.Dataset, res *alarm.ReplayResult) {
	if n := len(ds.NonFinite); n > 0 {
		a.logger.Warn("backtest: skipped rows whose value is NaN or infinite", "file", path, "rows", n, "first_line", ds.NonFinite[0])
	}
	metrics := make([]string, 0, len(res.Unknown))
	for m := range res.Unknown {
		metrics = append(metrics, m)
	}
	slices.Sort(metrics)
	for _, m := range metrics {
		// The name is cut: a malformed file can hold a name of megabytes.
		a.logger.Warn("backtest: skipped rows of a metric the spec does not define", "file", path, "metric", alarm.Excerpt(m), "rows", res.Unknown[m])
	}
	if res.Replaced > 0 {
		a.logger.Warn("backtest: rows replaced by a later row of the same series and time", "file", path, "rows", res.Replaced)
	}
}
