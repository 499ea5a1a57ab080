package runbook

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// warehouse reads the ledger's runs, the rejected load rows and (on
// Redshift) the failed queries in one round trip. Triage is an operator's
// explicit request, so on Redshift Serverless it sends SQL even to an idle
// workgroup.
func (r *Report) warehouse(ctx context.Context, src Sources) {
	if src.Warehouse == nil {
		r.problem("no warehouse connection (warehouse.dsn is empty): load errors and pipeline runs not read")
		return
	}
	ledger := src.Spec.Pipeline.Kind == spec.PipelineLedger
	snap, err := src.Warehouse.Snapshot(ctx, backend.Want{
		PipelineRuns: ledger, PipelineName: src.Spec.Pipeline.Name,
		LoadErrorRows: true, FailedQueries: src.Spec.Warehouse.Engine == spec.EngineRedshiftServerless,
		RecentSince: r.Since,
	})
	if err != nil {
		r.problem("warehouse unreachable: %v", err)
		return
	}
	for _, part := range []string{"pipeline_runs", "load_error_rows", "failed_queries"} {
		if e := snap.Errors[part]; e != nil {
			r.problem("%s: %v", part, e)
		}
	}
	if ledger && snap.Errors["pipeline_runs"] == nil {
		r.pipelineRuns(src.Spec.Pipeline.Name, snap.Runs)
	}
	r.loadErrors(snap.ErrorRows)
	r.Failed = append(r.Failed, snap.Failed...)
	if n := len(snap.Failed); n > 0 {
		r.Findings = append(r.Findings, Finding{Severity: "warning", Area: "queries",
			Title: fmt.Sprintf("%d queries failed since %s", n, r.Since.Format(time.RFC3339)), Detail: snap.Failed[0].Error,
			Next: "review the failing SQL (see failed queries)"})
	}
}

func (r *Report) pipelineRuns(name string, runs []backend.PipelineRun) {
	p := &PipelineState{Name: name, Runs: runs}
	r.Pipeline = p
	for _, run := range runs {
		if run.Status == "failed" {
			p.FailedStep, p.Error = run.FailedStep, run.Error
			r.Findings = append(r.Findings, Finding{Severity: "critical", Area: "pipeline",
				Title:  fmt.Sprintf("run %d of %s failed at step %s", run.ID, name, orUnknown(run.FailedStep)),
				Detail: run.Error, Next: pipelineNext(run.FailedStep)})
			return
		}
		if run.Status == "succeeded" {
			return // the newest run that ended succeeded: nothing to re-run
		}
	}
}

// pipelineNext is the runbook's recovery for a failed step.
func pipelineNext(step string) string {
	switch {
	case strings.Contains(step, "copy"):
		return "fix or re-upload the rejected files (see load errors), then dpcops recover rerun-pipeline"
	case strings.Contains(step, "dbt") || strings.Contains(step, "build"):
		return "fix the model's SQL, run dbt run --select <model> (see dbt), then dpcops recover rerun-pipeline"
	}
	return "dpcops recover rerun-pipeline"
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// loadErrors groups rejected rows by file, most rows first, with up to
// five examples each.
func (r *Report) loadErrors(rows []backend.LoadErrorRow) {
	byFile := map[string]*FileErrors{}
	for _, row := range rows {
		f, ok := byFile[row.File]
		if !ok {
			f = &FileErrors{File: row.File}
			byFile[row.File] = f
		}
		f.Rows++
		if len(f.Examples) < 5 {
			f.Examples = append(f.Examples, row)
		}
	}
	for _, f := range byFile {
		sort.Slice(f.Examples, func(i, j int) bool { return f.Examples[i].Line < f.Examples[j].Line })
		r.LoadErrors = append(r.LoadErrors, *f)
	}
	sort.Slice(r.LoadErrors, func(i, j int) bool {
		if r.LoadErrors[i].Rows != r.LoadErrors[j].Rows {
			return r.LoadErrors[i].Rows > r.LoadErrors[j].Rows
		}
		return r.LoadErrors[i].File < r.LoadErrors[j].File
	})
	for _, f := range r.LoadErrors {
		ex := f.Examples[0]
		r.Findings = append(r.Findings, Finding{Severity: "critical", Area: "load",
			Title:  fmt.Sprintf("%d rows of %s rejected", f.Rows, f.File),
			Detail: fmt.Sprintf("line %d, column %s: %s (error %d)", ex.Line, orUnknown(ex.Column), ex.Message, ex.Code),
			Next:   "fix or re-upload " + f.File + ", then dpcops recover rerun-pipeline"})
	}
}

// stepFunctions reads the newest executions and, for the newest failed
// one, the step that failed.
func (r *Report) stepFunctions(ctx context.Context, src Sources) {
	if src.Spec.Pipeline.Kind != spec.PipelineStepFunctions {
		return
	}
	if src.SFN == nil {
		r.problem("no AWS client: Step Functions executions not read")
		return
	}
	arn := src.Spec.Pipeline.StateMachineARN
	xs, err := src.SFN.Executions(ctx, arn, 20)
	if err != nil {
		r.problem("%v", err)
		return
	}
	p := &PipelineState{Name: src.Spec.Pipeline.Name}
	r.Pipeline = p
	for i, x := range xs {
		if x.Start.Before(r.Since) && i > 0 {
			break
		}
		run := backend.PipelineRun{Pipeline: x.Name, Started: x.Start, Finished: x.Stop, Status: strings.ToLower(x.Status)}
		p.Runs = append(p.Runs, run)
	}
	for _, x := range xs {
		if x.Status == "SUCCEEDED" {
			return
		}
		if x.Status != "FAILED" && x.Status != "TIMED_OUT" && x.Status != "ABORTED" {
			continue
		}
		f, err := src.SFN.FailedStep(ctx, x.ARN)
		if err != nil {
			r.problem("%v", err)
			return
		}
		if f != nil {
			p.FailedStep, p.Error = f.Step, strings.TrimSpace(f.Error+": "+f.Cause)
		}
		r.Findings = append(r.Findings, Finding{Severity: "critical", Area: "pipeline",
			Title:  fmt.Sprintf("execution %s %s at step %s", x.Name, strings.ToLower(x.Status), orUnknown(p.FailedStep)),
			Detail: p.Error, Next: pipelineNext(strings.ToLower(p.FailedStep))})
		return
	}
}

// logErrors takes the PostgreSQL server's ERROR lines as its failed
// queries.
func (r *Report) logErrors(ctx context.Context, src Sources) {
	if src.Spec.Warehouse.Engine != spec.EnginePostgres {
		return
	}
	lines, err := src.Store.LatestLogs(ctx, 200)
	if err != nil {
		r.problem("log lines: %v", err)
		return
	}
	for _, l := range lines {
		if l.Time.Before(r.Since) {
			continue
		}
		d := parseLogDetail(l.Detail)
		msg := l.Message
		if d.sqlstate != "" {
			msg += " (SQLSTATE " + d.sqlstate + ")"
		}
		r.Failed = append(r.Failed, backend.FailedQuery{Time: l.Time, User: d.user, Error: msg, Text: d.statement})
	}
	if n := len(r.Failed); n > 0 {
		r.Findings = append(r.Findings, Finding{Severity: "warning", Area: "queries",
			Title: fmt.Sprintf("%d errors in the server log since %s", n, r.Since.Format(time.RFC3339)), Detail: r.Failed[0].Error,
			Next: "review the failing SQL (see failed queries)"})
	}
}

// longQueries lists queries running past the lowest QMR threshold (600 s
// without rules).
func (r *Report) longQueries(ctx context.Context, src Sources) {
	if src.Running == nil {
		return
	}
	limit := 600.0
	for _, q := range src.Spec.QMR {
		if q.Enabled.On() && q.Metric == "execution_time" && q.Threshold < limit {
			limit = q.Threshold
		}
	}
	running, err := src.Running(ctx)
	if err != nil {
		r.problem("running queries: %v", err)
		return
	}
	for _, q := range running {
		if q.Elapsed.Seconds() < limit {
			continue
		}
		r.Long = append(r.Long, q)
		r.Findings = append(r.Findings, Finding{Severity: "warning", Area: "queries",
			Title:  fmt.Sprintf("query %d of %s running for %s", q.ID, orUnknown(q.User), q.Elapsed.Round(time.Second)),
			Detail: oneLine(q.Text, 200), Next: fmt.Sprintf("dpcops recover cancel-query %d", q.ID)})
	}
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

func (r *Report) dbt(src Sources) {
	path := src.Spec.DBT.RunResults
	if path == "" {
		return
	}
	run, err := ReadRunResults(path)
	if err != nil {
		r.problem("%v", err)
		return
	}
	r.DBT = run
	for _, f := range run.Failed {
		r.Findings = append(r.Findings, Finding{Severity: "error", Area: "dbt",
			Title:  fmt.Sprintf("dbt %s %s: %s", f.Type, f.Name, f.Status),
			Detail: oneLine(f.Message, 300), Next: f.Next + ", then dpcops recover rerun-pipeline"})
	}
}

// trends reads how storage and compute moved over the window.
func (r *Report) trends(ctx context.Context, src Sources) {
	for _, m := range src.Spec.Metrics {
		if m.Source != "data_storage" && m.Source != "compute_capacity" {
			continue
		}
		pts, err := src.Store.Points(ctx, m.Name, m.Dimensions.Canonical(), r.Since, r.Generated.Add(time.Second))
		if err != nil {
			r.problem("trend of %s: %v", m.Name, err)
			continue
		}
		if len(pts) == 0 {
			continue
		}
		t := Trend{Metric: m.Name, Unit: m.Unit, First: pts[0].Value, Last: pts[len(pts)-1].Value}
		for _, p := range pts {
			t.Max = max(t.Max, p.Value)
		}
		r.Trends = append(r.Trends, t)
	}
}

// logDetail is what the collector keeps of a server log line besides its
// message: "user=U db=D sqlstate=S statement=…", each part only when the
// server logged it, the statement last and whole.
type logDetail struct{ user, db, sqlstate, statement string }

func parseLogDetail(s string) logDetail {
	var d logDetail
	for s != "" {
		if rest, ok := strings.CutPrefix(s, "statement="); ok {
			d.statement = rest
			break
		}
		field, rest, _ := strings.Cut(s, " ")
		k, v, _ := strings.Cut(field, "=")
		switch k {
		case "user":
			d.user = v
		case "db":
			d.db = v
		case "sqlstate":
			d.sqlstate = v
		}
		s = rest
	}
	return d
}
