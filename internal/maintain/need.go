package maintain

import (
	"fmt"
	"math"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// Thresholds are the planner's defaults. A job's when condition replaces
// them for that job's choice of tables; they still decide which statement
// a Redshift vacuum job runs.
type Thresholds struct {
	// UnusedPercent: a table whose unused share (dead rows on PostgreSQL,
	// 1 − estimated_visible_rows ÷ tbl_rows on Redshift) is at least this
	// needs a VACUUM (the seed's 20 %).
	UnusedPercent float64
	// UnsortedPercent: a Redshift table more unsorted than this needs a
	// VACUUM SORT ONLY (5 %, as the Analyze & Vacuum utility).
	UnsortedPercent float64
	// StatsOff: a Redshift table whose stats_off exceeds this needs an
	// ANALYZE (10, as the utility and analyze_threshold_percent).
	StatsOff float64
	// ModifiedPercent: a PostgreSQL table with at least this share of its
	// live rows modified since its last ANALYZE needs one (10 %).
	ModifiedPercent float64
	// ModifiedRows: this many rows modified (PostgreSQL) or loaded
	// (Redshift) since the last ANALYZE need one whatever the share (the
	// seed's 100 million).
	ModifiedRows int64
	// DeepCopyMB and DeepCopyUnsorted: a Redshift table at least this
	// large and this unsorted is reported for a deep copy instead of a
	// VACUUM, which would run for hours (700 GB and 50 %).
	DeepCopyMB       float64
	DeepCopyUnsorted float64
}

// DefaultThresholds returns the thresholds docs/maintenance.md documents.
func DefaultThresholds() Thresholds {
	return Thresholds{
		UnusedPercent:    20,
		UnsortedPercent:  5,
		StatsOff:         10,
		ModifiedPercent:  10,
		ModifiedRows:     100_000_000,
		DeepCopyMB:       700 * 1024,
		DeepCopyUnsorted: 50,
	}
}

// TableStats is what the planner knows of one table.
type TableStats struct {
	backend.Table
	// RowsLoaded counts the rows loaded since the table's last ANALYZE
	// (Redshift's SYS_LOAD_HISTORY), -1 when unknown. On PostgreSQL it is
	// ModifiedSinceAnalyze.
	RowsLoaded int64
}

// Qualified returns schema.table, unquoted, as plans show it.
func (t TableStats) Qualified() string { return t.Schema + "." + t.Name }

// figure returns a condition metric's value for the table; ok is false
// when the engine does not know it.
func figure(engine, metric string, t TableStats) (v float64, ok bool) {
	pg := engine == spec.EnginePostgres
	switch metric {
	case "unused_percent":
		return t.UnusedPercent, true
	case "unsorted_percent":
		return t.UnsortedPercent, !pg && t.UnsortedPercent >= 0
	case "stats_off":
		return t.StatsOff, true
	case "modified_percent":
		if pg && t.ModifiedSinceAnalyze >= 0 {
			return 100 * float64(t.ModifiedSinceAnalyze) / math.Max(1, float64(t.Rows)), true
		}
		if !pg && t.RowsLoaded >= 0 {
			return 100 * float64(t.RowsLoaded) / math.Max(1, float64(t.Rows)), true
		}
		return t.StatsOff, !pg
	case "rows_loaded":
		if pg {
			return float64(t.ModifiedSinceAnalyze), t.ModifiedSinceAnalyze >= 0
		}
		return float64(t.RowsLoaded), t.RowsLoaded >= 0
	}
	return 0, false
}

// compare applies a CloudWatch comparison operator.
func compare(v float64, op string, threshold float64) bool {
	switch op {
	case "GreaterThanThreshold":
		return v > threshold
	case "GreaterThanOrEqualToThreshold":
		return v >= threshold
	case "LessThanThreshold":
		return v < threshold
	case "LessThanOrEqualToThreshold":
		return v <= threshold
	}
	return false
}

var opSymbols = map[string]string{
	"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": "≥",
	"LessThanThreshold": "<", "LessThanOrEqualToThreshold": "≤",
}

// meets tests a job's when condition against a table.
func meets(engine string, c *spec.Condition, t TableStats) (bool, string) {
	v, ok := figure(engine, c.Metric, t)
	if !ok || !compare(v, c.Comparison, c.Threshold) {
		return false, ""
	}
	return true, fmt.Sprintf("%s %s %s %s (when)", c.Metric, num(v), opSymbols[c.Comparison], num(c.Threshold))
}

// needs applies the default thresholds of an action to a table.
func needs(engine, action string, t TableStats, th Thresholds) (bool, string) {
	if engine == spec.EnginePostgres {
		return needsPostgres(action, t, th)
	}
	return needsRedshift(action, t, th)
}

func needsPostgres(action string, t TableStats, th Thresholds) (bool, string) {
	switch action {
	case spec.ActionAnalyze:
		return analyzeNeed(t, th)
	case spec.ActionVacuum, spec.ActionVacuumFull, spec.ActionVacuumSortOnly, spec.ActionVacuumDeleteOnly:
		if t.UnusedPercent >= th.UnusedPercent && t.DeadRows > 0 {
			return true, fmt.Sprintf("dead rows %s %% ≥ %s %% (%d dead of %d)", num(t.UnusedPercent), num(th.UnusedPercent), t.DeadRows, t.Rows+t.DeadRows)
		}
	}
	return false, ""
}

// analyzeNeed is the PostgreSQL ANALYZE rule: never analyzed, or enough
// rows modified since the last ANALYZE.
func analyzeNeed(t TableStats, th Thresholds) (bool, string) {
	if t.LastAnalyze == nil && (t.Rows > 0 || t.ModifiedSinceAnalyze > 0) {
		return true, "never analyzed"
	}
	m := t.ModifiedSinceAnalyze
	if m <= 0 {
		return false, ""
	}
	if m >= th.ModifiedRows {
		return true, fmt.Sprintf("%d rows modified since the last ANALYZE ≥ %d", m, th.ModifiedRows)
	}
	if pct := 100 * float64(m) / math.Max(1, float64(t.Rows)); pct >= th.ModifiedPercent {
		return true, fmt.Sprintf("%d rows modified since the last ANALYZE: %s %% of %d live rows ≥ %s %%", m, num(pct), t.Rows, num(th.ModifiedPercent))
	}
	return false, ""
}

func needsRedshift(action string, t TableStats, th Thresholds) (bool, string) {
	unused := t.UnusedPercent >= th.UnusedPercent && t.DeadRows > 0
	unsorted := t.UnsortedPercent > th.UnsortedPercent
	switch action {
	case spec.ActionAnalyze:
		if t.RowsLoaded >= th.ModifiedRows {
			return true, fmt.Sprintf("%d rows loaded since the last ANALYZE ≥ %d", t.RowsLoaded, th.ModifiedRows)
		}
		if t.StatsOff > th.StatsOff {
			return true, fmt.Sprintf("stats_off %s > %s", num(t.StatsOff), num(th.StatsOff))
		}
	case spec.ActionVacuum, spec.ActionVacuumFull:
		return unused || unsorted, joinReasons(unusedReason(unused, t, th), unsortedReason(unsorted, t, th))
	case spec.ActionVacuumDeleteOnly:
		return unused, unusedReason(unused, t, th)
	case spec.ActionVacuumSortOnly:
		return unsorted, unsortedReason(unsorted, t, th)
	case spec.ActionAnalyzeCompression:
		if t.Rows > 0 {
			return true, "monthly encoding review"
		}
	}
	return false, ""
}

func unusedReason(ok bool, t TableStats, th Thresholds) string {
	if !ok {
		return ""
	}
	return fmt.Sprintf("unused %s %% ≥ %s %%", num(t.UnusedPercent), num(th.UnusedPercent))
}

func unsortedReason(ok bool, t TableStats, th Thresholds) string {
	if !ok {
		return ""
	}
	return fmt.Sprintf("unsorted %s %% > %s %%", num(t.UnsortedPercent), num(th.UnsortedPercent))
}

func joinReasons(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// num formats a figure with at most one decimal.
func num(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.1f", v)
}
