package pgwire

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Float parses a numeric field.
func (v Value) Float() (float64, error) {
	if v.Null {
		return 0, errNull
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v.Text), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is not a finite number", v.Text)
	}
	return f, nil
}

// Int parses an integer field (numeric text with no fraction is accepted).
func (v Value) Int() (int64, error) {
	if v.Null {
		return 0, errNull
	}
	if i, err := strconv.ParseInt(strings.TrimSpace(v.Text), 10, 64); err == nil {
		return i, nil
	}
	f, err := v.Float()
	if err != nil || f != math.Trunc(f) {
		return 0, fmt.Errorf("%q is not a whole number", v.Text)
	}
	return int64(f), nil
}

// Epoch parses seconds since the Unix epoch into a time.
func (v Value) Epoch() (time.Time, error) {
	f, err := v.Float()
	if err != nil {
		return time.Time{}, err
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// Time parses a timestamp in PostgreSQL's or Redshift's text form.
func (v Value) Time() (time.Time, error) {
	if v.Null {
		return time.Time{}, errNull
	}
	s := strings.TrimSpace(v.Text)
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp", v.Text)
}

var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	time.RFC3339Nano,
	"2006-01-02",
}

var errNull = fmt.Errorf("NULL")

// IsNull reports an error from a NULL field.
func IsNull(err error) bool { return err == errNull }

// Epoch writes t as the seconds since 1970 with microseconds, the text a
// query's timestamp argument takes (to_timestamp($1)).
func Epoch(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', 6, 64)
}
