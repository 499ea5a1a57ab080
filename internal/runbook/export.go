package runbook

import (
	"context"
	"fmt"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// Record is an incident with everything its export shows.
type Record struct {
	Incident    Incident
	Description string
	Timeline    []Event
	// Errors and data quality, from the warehouse when it answered.
	LoadErrors  []FileErrors
	FailedRuns  []backend.PipelineRun
	CopyErrors  *float64
	DBT         *DBTRun
	Unavailable []string
	// warehouseRead says the warehouse answered for LoadErrors and
	// FailedRuns: empty then means none, not unknown.
	warehouseRead bool
}

// Gather reads an incident's record: its timeline from the store, and its
// error summary and data-quality results from the warehouse, the store's
// CopyErrorCount readings and dbt's run_results.json where available.
func Gather(ctx context.Context, in *Incidents, src Sources, id int64) (*Record, error) {
	inc, err := in.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if src.Now != nil {
		now = src.Now
	}
	rec := &Record{Incident: inc}
	if a, ok := src.Spec.Alarm(inc.Alarm); ok {
		rec.Description = a.Description
	}
	if rec.Timeline, err = in.Timeline(ctx, inc, now()); err != nil {
		return nil, err
	}
	end := now()
	if inc.Closed != nil {
		end = *inc.Closed
	}
	// The window starts well before the alarm fired: the failed runs and
	// rejected rows that led to it (ELT delay fires 90 minutes after the
	// last success).
	since := inc.Opened.Add(-2 * time.Hour)
	rec.copyErrors(ctx, src, since, end)
	rec.warehouse(ctx, src, since)
	if p := src.Spec.DBT.RunResults; p != "" {
		if run, err := ReadRunResults(p); err == nil {
			rec.DBT = run
		} else {
			rec.Unavailable = append(rec.Unavailable, err.Error())
		}
	}
	return rec, nil
}

func (rec *Record) copyErrors(ctx context.Context, src Sources, from, to time.Time) {
	for _, m := range src.Spec.Metrics {
		if m.Source != "load_errors" {
			continue
		}
		pts, err := src.Store.Points(ctx, m.Name, m.Dimensions.Canonical(), from, to.Add(time.Second))
		if err != nil {
			rec.Unavailable = append(rec.Unavailable, err.Error())
			return
		}
		if len(pts) == 0 {
			return // no readings: say nothing rather than 0
		}
		total := 0.0
		for _, p := range pts {
			total += p.Value
		}
		rec.CopyErrors = &total
		return
	}
}

func (rec *Record) warehouse(ctx context.Context, src Sources, since time.Time) {
	if src.Warehouse == nil {
		rec.Unavailable = append(rec.Unavailable, "no warehouse connection: load errors and pipeline runs not included")
		return
	}
	ledger := src.Spec.Pipeline.Kind == spec.PipelineLedger
	snap, err := src.Warehouse.Snapshot(ctx, backend.Want{PipelineRuns: ledger, PipelineName: src.Spec.Pipeline.Name,
		LoadErrorRows: true, RecentSince: since})
	if err != nil {
		rec.Unavailable = append(rec.Unavailable, "warehouse unreachable: "+err.Error())
		return
	}
	rec.warehouseRead = true
	var r Report
	r.loadErrors(snap.ErrorRows)
	rec.LoadErrors = r.LoadErrors
	for _, run := range snap.Runs {
		if run.Status == "failed" {
			rec.FailedRuns = append(rec.FailedRuns, run)
		}
	}
}

// Markdown renders the incident for Confluence or Notion: both import it
// as a page with its tables. Every text from elsewhere (the alarm's
// description, reasons, notes, receivers' errors, load errors) is escaped:
// no HTML in it reaches the page, and no pipe or newline breaks a table.
func (rec *Record) Markdown(s *spec.Spec, now time.Time) string {
	loc := s.Location()
	ts := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05 MST") }
	inc := rec.Incident
	var m md
	m.line("# Incident %d: %s", inc.ID, cell(inc.Alarm))
	m.blank()
	closed, duration := "open", now.Sub(inc.Opened)
	if inc.Closed != nil {
		closed, duration = ts(*inc.Closed), inc.Closed.Sub(inc.Opened)
	}
	m.table([]string{"Field", "Value"}, [][]string{
		{"Platform", fmt.Sprintf("%s (%s)", s.Platform, s.Environment)},
		{"Alarm", inc.Alarm},
		{"Severity", inc.Severity},
		{"Episode", fmt.Sprint(inc.Episode)},
		{"Opened", ts(inc.Opened)},
		{"Closed", closed},
		{"Duration", duration.Round(time.Second).String()},
	})
	if rec.Description != "" {
		m.line("## Summary")
		m.blank()
		m.line("%s", cell(rec.Description))
		m.blank()
	}
	m.line("## Timeline")
	m.blank()
	rows := [][]string{}
	for _, e := range rec.Timeline {
		rows = append(rows, []string{ts(e.Time), e.Kind, e.Text, e.Detail})
	}
	m.table([]string{"Time", "Kind", "Event", "Detail"}, rows)
	rec.errorSummary(&m, ts)
	rec.dataQuality(&m)
	if len(rec.Unavailable) > 0 {
		m.line("## Not included")
		m.blank()
		for _, u := range rec.Unavailable {
			m.line("- %s", cell(u))
		}
		m.blank()
	}
	return m.b.String()
}

func (rec *Record) errorSummary(m *md, ts func(time.Time) string) {
	m.line("## Error summary")
	m.blank()
	switch {
	case !rec.warehouseRead && len(rec.LoadErrors) == 0 && len(rec.FailedRuns) == 0:
		// Never "no rejected rows" when nobody looked.
		m.line("Rejected rows and pipeline runs were not read: the warehouse did not answer (see Not included).")
		m.blank()
		return
	case len(rec.LoadErrors) == 0 && len(rec.FailedRuns) == 0 && rec.CopyErrors != nil && *rec.CopyErrors > 0:
		m.line("The warehouse lists no rejected rows from around the incident any more, though dpcops counted %s during it: they were cleared or aged out since.", num(*rec.CopyErrors))
		m.blank()
		return
	case len(rec.LoadErrors) == 0 && len(rec.FailedRuns) == 0:
		m.line("No rejected rows and no failed pipeline run around the incident.")
		m.blank()
		return
	}
	if len(rec.FailedRuns) > 0 {
		rows := [][]string{}
		for _, run := range rec.FailedRuns {
			rows = append(rows, []string{fmt.Sprint(run.ID), ts(run.Started), run.FailedStep, run.Error})
		}
		m.table([]string{"Run", "Started", "Failed step", "Error"}, rows)
	}
	if len(rec.LoadErrors) > 0 {
		rows := [][]string{}
		for _, f := range rec.LoadErrors {
			ex := f.Examples[0]
			rows = append(rows, []string{f.File, fmt.Sprint(f.Rows), fmt.Sprintf("line %d, %s: %s (%d)", ex.Line, orUnknown(ex.Column), ex.Message, ex.Code)})
		}
		m.table([]string{"File", "Rows rejected", "First error"}, rows)
	}
}

func (rec *Record) dataQuality(m *md) {
	m.line("## Data quality")
	m.blank()
	rows := [][]string{}
	if rec.CopyErrors != nil {
		rows = append(rows, []string{"Rows rejected by COPY during the incident", num(*rec.CopyErrors)})
	}
	rows = append(rows, []string{"Failed pipeline runs", fmt.Sprint(len(rec.FailedRuns))})
	if rec.DBT != nil {
		tests, models := 0, 0
		for _, f := range rec.DBT.Failed {
			if f.Type == "test" {
				tests++
			} else {
				models++
			}
		}
		rows = append(rows,
			[]string{"dbt tests failing (last run)", fmt.Sprintf("%d of %d nodes", tests, rec.DBT.Total)},
			[]string{"dbt models failing (last run)", fmt.Sprint(models)})
	}
	m.table([]string{"Check", "Result"}, rows)
}
