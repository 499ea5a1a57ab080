// Package alarm evaluates the spec's alarms with CloudWatch's semantics:
// statistics per period, the four comparison operators, M out of N
// datapoints, the four ways of treating missing data (with CloudWatch's
// evaluation range, "as few fills as possible" and its premature-alarm
// rule), and metric math expressions.
//
// The same evaluation runs in two places. Engine evaluates the alarms of
// `dpcops serve` at their period boundaries from the store, persists each
// transition together with whatever its hooks (Options.Hooks: the
// notifications a transition owes, its incident) write in the
// same transaction, and resumes every alarm's state after a restart.
// Replay runs the alarms over datapoints held in memory, such as those
// ReadCSV reads for `dpcops backtest`. docs/alarms.md describes the rules.
package alarm
