package maintain

import (
	"fmt"
	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"path"
	"sort"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// Item actions beyond the spec's maintenance actions: advice for people,
// with no statement to run.
const (
	ActionDeepCopy = "deep_copy"
)

// Item is one statement the planner wants run, and why. Its JSON form
// {job, table, statement, reason, action} is what `dpcops maintenance plan
// --format json` prints; the names are stable.
type Item struct {
	Job string `json:"job"`
	// Table is schema.table, unquoted; "" for an item about the whole job.
	Table string `json:"table"`
	// Statement is the SQL to run, identifiers quoted; "" for advice that
	// people act on (a deep copy, a capacity review).
	Statement string `json:"statement"`
	Reason    string `json:"reason"`
	// Action is the job's action, or deep_copy.
	Action string `json:"action"`
	// Schema and Name are the table's parts, for the runner.
	Schema string `json:"-"`
	Name   string `json:"-"`
}

// Advice reports whether the item is for people: nothing to run.
func (it Item) Advice() bool { return it.Statement == "" }

// PlanJob chooses the tables of one job that need work, and the statement
// for each. Only tables that need work appear. A job's when condition
// replaces the default thresholds in choosing tables.
func PlanJob(engine string, j *spec.Job, tables []TableStats, th Thresholds) []Item {
	if j.Action == spec.ActionCapacityReview {
		return nil
	}
	if engine == spec.EnginePostgres && j.Action == spec.ActionAnalyzeCompression {
		return nil
	}
	sorted := append([]TableStats(nil), tables...)
	sort.Slice(sorted, func(a, b int) bool { return sorted[a].Qualified() < sorted[b].Qualified() })
	var items []Item
	for _, t := range sorted {
		if !selected(j, t.Qualified()) {
			continue
		}
		var ok bool
		var why string
		if j.When != nil {
			ok, why = meets(engine, j.When, t)
		} else {
			ok, why = needs(engine, j.Action, t, th)
		}
		if ok {
			items = append(items, itemFor(engine, j, t, th, why))
		}
	}
	return items
}

// selected applies a job's table patterns (schema.table globs).
func selected(j *spec.Job, name string) bool {
	match := func(pats []string) bool {
		for _, p := range pats {
			if ok, _ := path.Match(p, name); ok {
				return true
			}
		}
		return false
	}
	if len(j.Tables) > 0 && !match(j.Tables) {
		return false
	}
	return !match(j.ExcludeTables)
}

// itemFor builds the item of a table that needs the job's action.
func itemFor(engine string, j *spec.Job, t TableStats, th Thresholds, why string) Item {
	it := Item{Job: j.Name, Table: t.Qualified(), Reason: why, Action: j.Action, Schema: t.Schema, Name: t.Name}
	q := pgwire.QualifiedName(t.Schema, t.Name)
	if engine == spec.EnginePostgres {
		it.Statement, it.Reason = postgresStatement(j, q, why)
		return it
	}
	if deepCopy(j.Action, t, th) {
		it.Action = ActionDeepCopy
		it.Reason = fmt.Sprintf("deep copy recommended instead of VACUUM: %s MB and %s %% unsorted (≥ %s MB and ≥ %s %%); %s",
			num(t.SizeMB), num(t.UnsortedPercent), num(th.DeepCopyMB), num(th.DeepCopyUnsorted), why)
		return it
	}
	it.Statement = redshiftStatement(j.Action, t, th, q)
	return it
}

func postgresStatement(j *spec.Job, q, why string) (string, string) {
	switch j.Action {
	case spec.ActionAnalyze:
		return "ANALYZE " + q, why
	case spec.ActionVacuumFull:
		if j.AllowExclusiveLock {
			return "VACUUM FULL " + q, why
		}
		return "VACUUM " + q, why + "; plain VACUUM: VACUUM FULL needs allow_exclusive_lock"
	case spec.ActionVacuumSortOnly, spec.ActionVacuumDeleteOnly:
		return "VACUUM " + q, why + "; plain VACUUM: PostgreSQL has no " + j.Action
	}
	return "VACUUM " + q, why
}

func redshiftStatement(action string, t TableStats, th Thresholds, q string) string {
	switch action {
	case spec.ActionAnalyze:
		return "ANALYZE " + q
	case spec.ActionAnalyzeCompression:
		return "ANALYZE COMPRESSION " + q
	case spec.ActionVacuumFull:
		return "VACUUM FULL " + q
	case spec.ActionVacuumSortOnly:
		return "VACUUM SORT ONLY " + q
	case spec.ActionVacuumDeleteOnly:
		return "VACUUM DELETE ONLY " + q
	}
	// A plain vacuum job sorts only where sorting is all a table needs;
	// FULL reclaims and sorts.
	if t.UnusedPercent < th.UnusedPercent && t.UnsortedPercent > th.UnsortedPercent {
		return "VACUUM SORT ONLY " + q
	}
	return "VACUUM FULL " + q
}

// deepCopy reports a table too large and too unsorted for a VACUUM that
// sorts.
func deepCopy(action string, t TableStats, th Thresholds) bool {
	switch action {
	case spec.ActionVacuum, spec.ActionVacuumFull, spec.ActionVacuumSortOnly:
		return t.SizeMB >= th.DeepCopyMB && t.UnsortedPercent >= th.DeepCopyUnsorted
	}
	return false
}
