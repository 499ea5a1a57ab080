package collect

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// Keys of the state kept between cycles.
const (
	stateLoadErrors = "load_errors.until"
	stateLastSQL    = "wake.last_sql"
	stateCommits    = "pg.xact_commit"
	stateRollbacks  = "pg.xact_rollback"
	stateUsage      = "usage.rpu_hours"
	stateLogOffset  = "jsonlog.offset"
)

// partErr returns why a part of the snapshot is missing.
func (cy *cycle) partErr(part string) string {
	if err := cy.snap.Errors[part]; err != nil {
		return part + ": " + explain(err)
	}
	return part + ": no answer"
}

// explain adds the remedy to errors a user can fix.
func explain(err error) string {
	var qe *pgwire.QueryError
	if errors.As(err, &qe) && qe.PermissionDenied() {
		return err.Error() + " (grant the monitoring user the sys:monitor role, or SELECT on the ops schema)"
	}
	return err.Error()
}

// eltDelay reports minutes since the pipeline last succeeded and/or the
// marts were last updated. With method both, each gets its own Method
// dimension and the metric's own series carries the larger.
func (cy *cycle) eltDelay(m spec.Metric) string {
	method := cy.s.ELTDelay.Method
	var pipe, mart float64
	var pipeOK, martOK bool
	var reasons []string
	if method != spec.DelayMartUpdated {
		var why string
		pipe, why = cy.pipelineDelay()
		pipeOK = why == ""
		if !pipeOK {
			reasons = append(reasons, why)
		}
	}
	if method != spec.DelayPipelineCompletion {
		switch {
		case cy.snap == nil:
			reasons = append(reasons, cy.sqlErr.Error())
		case cy.snap.MartUpdated == nil:
			reasons = append(reasons, cy.partErr("mart"))
		default:
			mart, martOK = cy.snap.At.Sub(*cy.snap.MartUpdated).Minutes(), true
		}
	}
	switch {
	case method == spec.DelayPipelineCompletion && pipeOK:
		cy.emit(m, m.Dimensions, cy.now, pipe)
	case method == spec.DelayMartUpdated && martOK:
		cy.emit(m, m.Dimensions, cy.now, mart)
	case method == spec.DelayBoth && (pipeOK || martOK):
		if pipeOK {
			cy.emit(m, withDim(m.Dimensions, "Method", spec.DelayPipelineCompletion), cy.now, pipe)
		}
		if martOK {
			cy.emit(m, withDim(m.Dimensions, "Method", spec.DelayMartUpdated), cy.now, mart)
		}
		if pipeOK && martOK {
			cy.emit(m, m.Dimensions, cy.now, math.Max(pipe, mart))
		}
	default:
		return strings.Join(reasons, "; ")
	}
	return ""
}

// pipelineDelay is the minutes since the last successful run. A pipeline
// that never succeeded is late since its first run started.
func (cy *cycle) pipelineDelay() (float64, string) {
	if cy.s.Pipeline.Kind == spec.PipelineStepFunctions {
		if !cy.execOK {
			return 0, "Step Functions could not be read"
		}
		if cy.exec == nil || cy.exec.Stop == nil {
			return 0, "no SUCCEEDED execution of " + cy.s.Pipeline.StateMachineARN
		}
		return cy.now.Sub(*cy.exec.Stop).Minutes(), ""
	}
	if cy.snap == nil {
		return 0, cy.sqlErr.Error()
	}
	p := cy.snap.Pipeline
	switch {
	case p == nil:
		return 0, cy.partErr("pipeline")
	case p.LastSuccess != nil:
		return cy.snap.At.Sub(*p.LastSuccess).Minutes(), ""
	case p.FirstStart != nil:
		return cy.snap.At.Sub(*p.FirstStart).Minutes(), ""
	}
	return 0, fmt.Sprintf("no run of pipeline %s in ops.pipeline_runs yet", cy.s.Pipeline.Name)
}

// loadErrors reports the load error rows of the window since the last one
// and moves the window on.
func (cy *cycle) loadErrors(m spec.Metric) string {
	le := cy.snap.LoadErrors
	if le == nil {
		return cy.partErr("load_errors")
	}
	cy.emit(m, m.Dimensions, le.Until, float64(le.Count))
	cy.setState(stateLoadErrors, float64(le.Until.Unix()), le.Until)
	return ""
}

// perTable reports one series per table (dimension Table) and, on the
// metric's own series, the worst table.
func (cy *cycle) perTable(m spec.Metric, value func(backend.Table) (float64, bool)) string {
	if cy.snap.Tables == nil && cy.snap.Errors["tables"] != nil {
		return cy.partErr("tables")
	}
	worst, any := 0.0, false
	for _, t := range cy.snap.Tables {
		v, ok := value(t)
		if !ok {
			continue
		}
		cy.emit(m, withDim(m.Dimensions, "Table", t.Schema+"."+t.Name), cy.snap.At, v)
		worst, any = math.Max(worst, v), true
	}
	if !any {
		return "no tables"
	}
	cy.emit(m, m.Dimensions, cy.snap.At, worst)
	return ""
}

// custom reports a source: sql metric's rows.
func (cy *cycle) custom(m spec.Metric) string {
	rows, ok := cy.snap.Custom[m.Name]
	if err := cy.snap.Errors["custom:"+m.Name]; err != nil {
		cy.c.log.Warn("custom metric rows skipped", "metric", m.Name, "reason", explain(err))
		if !ok {
			return explain(err)
		}
	}
	for _, r := range rows {
		dims := append(spec.Labels(nil), m.Dimensions...)
		for _, k := range sortedKeys(r.Dimensions) {
			dims = append(dims, spec.Label{Name: k, Value: r.Dimensions[k]})
		}
		cy.emit(m, dims, cy.snap.At, r.Value)
	}
	if len(rows) == 0 {
		return "the query returned no rows"
	}
	return ""
}

// periodStart is the start of the usage limit period holding t, in the
// spec's time zone (weekly periods start on Sunday, as AWS's do).
func periodStart(s *spec.Spec, t time.Time) time.Time {
	lt := t.In(s.Location())
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, lt.Location())
	period := "monthly"
	if s.Capacity.UsageLimit != nil {
		period = s.Capacity.UsageLimit.Period
	}
	switch period {
	case "daily":
		return day
	case "weekly":
		return day.AddDate(0, 0, -int(day.Weekday()))
	}
	return time.Date(lt.Year(), lt.Month(), 1, 0, 0, 0, 0, lt.Location())
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
