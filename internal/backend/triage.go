package backend

import (
	"time"

	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
)

// The parsers of the triage parts, the same in both dialects.

// ParsePipelineRuns reads (id, pipeline, started, finished, status,
// failed_step, error).
func ParsePipelineRuns(s *Snapshot, r pgwire.Result) error {
	for _, row := range r.Rows {
		var run PipelineRun
		var err error
		if run.ID, err = row[0].Int(); err != nil {
			return err
		}
		run.Pipeline = row[1].Text
		if run.Started, err = row[2].Epoch(); err != nil {
			return err
		}
		if t, err := row[3].Epoch(); err == nil {
			run.Finished = &t
		}
		run.Status, run.FailedStep, run.Error = row[4].Text, row[5].Text, row[6].Text
		s.Runs = append(s.Runs, run)
	}
	return nil
}

// ParseLoadErrorRows reads (at, file, line, column, code, message).
func ParseLoadErrorRows(s *Snapshot, r pgwire.Result) error {
	rows, err := loadErrorRows(r, pgwire.Value.Epoch)
	s.ErrorRows = append(s.ErrorRows, rows...)
	return err
}

// ParseRejectedEvents reads the rows of ParseLoadErrorRows with the time
// as a timestamp, into RejectedEvents (never nil once read).
func ParseRejectedEvents(s *Snapshot, r pgwire.Result) error {
	rows, err := loadErrorRows(r, pgwire.Value.Time)
	s.RejectedEvents = append(make([]LoadErrorRow, 0, len(rows)), rows...)
	return err
}

func loadErrorRows(r pgwire.Result, at func(pgwire.Value) (time.Time, error)) ([]LoadErrorRow, error) {
	var out []LoadErrorRow
	for _, row := range r.Rows {
		var e LoadErrorRow
		var err error
		if e.Time, err = at(row[0]); err != nil {
			return out, err
		}
		e.File, e.Column, e.Message = row[1].Text, row[3].Text, row[5].Text
		e.Line, _ = row[2].Int()
		e.Code, _ = row[4].Int()
		out = append(out, e)
	}
	return out, nil
}

// ParseFailedQueries reads (query_id, user, at, error, query).
func ParseFailedQueries(s *Snapshot, r pgwire.Result) error {
	qs, err := failedQueries(r, pgwire.Value.Epoch)
	s.Failed = append(s.Failed, qs...)
	return err
}

// ParseFailedEvents reads the rows of ParseFailedQueries with the time as
// a timestamp, into FailedEvents (never nil once read).
func ParseFailedEvents(s *Snapshot, r pgwire.Result) error {
	qs, err := failedQueries(r, pgwire.Value.Time)
	s.FailedEvents = append(make([]FailedQuery, 0, len(qs)), qs...)
	return err
}

func failedQueries(r pgwire.Result, at func(pgwire.Value) (time.Time, error)) ([]FailedQuery, error) {
	var out []FailedQuery
	for _, row := range r.Rows {
		var q FailedQuery
		var err error
		if q.ID, err = row[0].Int(); err != nil {
			return out, err
		}
		q.User = row[1].Text
		if q.Time, err = at(row[2]); err != nil {
			return out, err
		}
		q.Error, q.Text = row[3].Text, row[4].Text
		out = append(out, q)
	}
	return out, nil
}

// ParseColumns reads (schema, table, column, type).
func ParseColumns(s *Snapshot, r pgwire.Result) error {
	for _, row := range r.Rows {
		s.Columns = append(s.Columns, Column{Schema: row[0].Text, Table: row[1].Text, Name: row[2].Text, Type: row[3].Text})
	}
	return nil
}
