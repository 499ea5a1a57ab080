package backend

import (
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
	for _, row := range r.Rows {
		var e LoadErrorRow
		var err error
		if e.Time, err = row[0].Epoch(); err != nil {
			return err
		}
		e.File, e.Column, e.Message = row[1].Text, row[3].Text, row[5].Text
		e.Line, _ = row[2].Int()
		e.Code, _ = row[4].Int()
		s.ErrorRows = append(s.ErrorRows, e)
	}
	return nil
}

// ParseFailedQueries reads (query_id, user, at, error, query).
func ParseFailedQueries(s *Snapshot, r pgwire.Result) error {
	for _, row := range r.Rows {
		var q FailedQuery
		var err error
		if q.ID, err = row[0].Int(); err != nil {
			return err
		}
		q.User = row[1].Text
		if q.Time, err = row[2].Epoch(); err != nil {
			return err
		}
		q.Error, q.Text = row[3].Text, row[4].Text
		s.Failed = append(s.Failed, q)
	}
	return nil
}

// ParseColumns reads (schema, table, column, type).
func ParseColumns(s *Snapshot, r pgwire.Result) error {
	for _, row := range r.Rows {
		s.Columns = append(s.Columns, Column{Schema: row[0].Text, Table: row[1].Text, Name: row[2].Text, Type: row[3].Text})
	}
	return nil
}
