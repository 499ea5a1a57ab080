package backend

import (
	"fmt"

	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
)

// The parsers below read answers whose shape is the same in both dialects.

// ParseLoadErrors reads (count, until epoch).
func ParseLoadErrors(s *Snapshot, r pgwire.Result) error {
	row, err := pgwire.One(r)
	if err != nil {
		return err
	}
	var le LoadErrors
	if le.Count, err = row[0].Int(); err != nil {
		return err
	}
	if le.Until, err = row[1].Epoch(); err != nil {
		return err
	}
	s.LoadErrors = &le
	return nil
}

// ParsePipeline reads (last success, first start, running).
func ParsePipeline(s *Snapshot, r pgwire.Result) error {
	row, err := pgwire.One(r)
	if err != nil {
		return err
	}
	var p Pipeline
	if t, err := row[0].Epoch(); err == nil {
		p.LastSuccess = &t
	}
	if t, err := row[1].Epoch(); err == nil {
		p.FirstStart = &t
	}
	p.Running = row[2].Text == "t" || row[2].Text == "true" || row[2].Text == "1"
	s.Pipeline = &p
	return nil
}

// ParseMart reads the mart query's one timestamp.
func ParseMart(s *Snapshot, r pgwire.Result) error {
	row, err := pgwire.One(r)
	if err != nil {
		return fmt.Errorf("mart_query must return one row: %w", err)
	}
	if len(row) == 0 {
		return fmt.Errorf("mart_query returned no column")
	}
	t, err := row[0].Time()
	if err != nil {
		if pgwire.IsNull(err) {
			return fmt.Errorf("mart_query returned NULL: no mart update recorded")
		}
		return fmt.Errorf("mart_query: %w", err)
	}
	s.MartUpdated = &t
	return nil
}

// ParseCustom reads a custom metric's rows: a numeric column named value
// and text columns that become dimensions. Rows whose value is NULL or not
// a number are skipped; the error says how many and why.
func ParseCustom(name string) func(*Snapshot, pgwire.Result) error {
	return func(s *Snapshot, r pgwire.Result) error {
		vi := -1
		for i, c := range r.Columns {
			if c == "value" {
				vi = i
			}
		}
		if vi < 0 {
			return fmt.Errorf("metric %s: the query must return a column named value", name)
		}
		if s.Custom == nil {
			s.Custom = map[string][]CustomRow{}
		}
		skipped := 0
		var lastErr error
		for _, row := range r.Rows {
			v, err := row[vi].Float()
			if err != nil {
				skipped++
				lastErr = err
				continue
			}
			cr := CustomRow{Value: v, Dimensions: map[string]string{}}
			for i, c := range r.Columns {
				if i != vi {
					cr.Dimensions[c] = row[i].Text
				}
			}
			s.Custom[name] = append(s.Custom[name], cr)
		}
		if skipped > 0 {
			return fmt.Errorf("metric %s: skipped %d row(s): %v", name, skipped, lastErr)
		}
		return nil
	}
}
