package alarm

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// Dataset is datapoints read into memory, for Replay.
type Dataset struct {
	// Rows in file order.
	Rows []Row
	// NonFinite lists the lines whose value was NaN or ±Inf. Those rows are
	// dropped: serve never stores such a value (the store refuses it), so
	// a replay treats the period as a collector would leave it, without
	// that datapoint.
	NonFinite []int
}

// Row is one datapoint.
type Row struct {
	Time   time.Time
	Metric string
	// Dims is canonical ("k=v;k=v" sorted by key); "" means the metric's
	// own dimensions as the spec defines them.
	Dims  string
	Value float64
	// Line is the row's line in its file.
	Line int
}

// csvHeader is the header a backtest file starts with; the dimensions
// column is optional.
var csvHeader = []string{"time", "metric", "value", "dimensions"}

// ReadCSV reads a backtest file: a header row `time,metric,value` or
// `time,metric,value,dimensions`, then one datapoint per row with an
// RFC 3339 time and dimensions written `k=v;k=v`. Lines starting with #
// are comments and blank lines are skipped. Rows may come in any order.
// A malformed row is an error "NAME:LINE: message"; NaN and infinite
// values are not errors but are dropped (see Dataset.NonFinite).
func ReadCSV(name string, r io.Reader) (*Dataset, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	// A byte order mark, as spreadsheets write, is not part of the header.
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cols, err := readHeader(name, cr)
	if err != nil {
		return nil, err
	}
	ds := &Dataset{}
	// Rows repeat a few names; interning them keeps a month of rows from
	// holding every line's text alive.
	names := map[string]string{}
	intern := func(s string) string {
		if v, ok := names[s]; ok {
			return v
		}
		s = strings.Clone(s)
		names[s] = s
		return s
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return ds, nil
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		row, err := parseRow(rec, cols)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		row.Line = line
		row.Metric, row.Dims = intern(row.Metric), intern(row.Dims)
		if math.IsNaN(row.Value) || math.IsInf(row.Value, 0) {
			ds.NonFinite = append(ds.NonFinite, line)
			continue
		}
		ds.Rows = append(ds.Rows, row)
	}
}

func readHeader(name string, cr *csv.Reader) (int, error) {
	rec, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("%s:1: empty file: want a header row time,metric,value[,dimensions]", name)
	}
	if err != nil {
		return 0, csvError(name, err)
	}
	line, _ := cr.FieldPos(0)
	ok := len(rec) == 3 || len(rec) == 4
	for i := 0; ok && i < len(rec); i++ {
		ok = strings.EqualFold(strings.TrimSpace(rec[i]), csvHeader[i])
	}
	if !ok {
		return 0, fmt.Errorf("%s:%d: want the header row time,metric,value[,dimensions], got %q", name, line, Excerpt(strings.Join(rec, ",")))
	}
	return len(rec), nil
}

// csvError gives a CSV syntax error the NAME:LINE: form.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d: %v", name, pe.StartLine, pe.Err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

func parseRow(rec []string, cols int) (Row, error) {
	// A row may leave out an empty dimensions column.
	if len(rec) != cols && !(cols == 4 && len(rec) == 3) {
		return Row{}, fmt.Errorf("want %d columns (%s), got %d", cols, strings.Join(csvHeader[:cols], ","), len(rec))
	}
	var r Row
	var err error
	if r.Time, err = time.Parse(time.RFC3339Nano, strings.TrimSpace(rec[0])); err != nil {
		return r, fmt.Errorf("time %q is not RFC 3339 (2026-11-27T03:05:00Z)", Excerpt(rec[0]))
	}
	if r.Metric = strings.TrimSpace(rec[1]); r.Metric == "" {
		return r, errors.New("no metric name")
	}
	if r.Value, err = strconv.ParseFloat(strings.TrimSpace(rec[2]), 64); err != nil {
		return r, fmt.Errorf("value %q is not a number", Excerpt(rec[2]))
	}
	if len(rec) == 4 {
		if r.Dims, err = parseDims(rec[3]); err != nil {
			return r, err
		}
	}
	return r, nil
}

// maxExcerpt is how many characters of an input value an error or a
// warning repeats: enough to find the value in the file, and a 50 MB field
// still makes a one-line message.
const maxExcerpt = 80

// Excerpt returns s cut to its first 80 characters and an ellipsis if it
// is longer, for errors and warnings that quote a value from the input.
func Excerpt(s string) string {
	if len(s) <= maxExcerpt {
		return s
	}
	n := 0
	for i := range s {
		if n == maxExcerpt {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// parseDims parses `k=v;k=v` into the canonical form.
func parseDims(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	var ls spec.Labels
	for _, kv := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return "", fmt.Errorf("dimension %q: want name=value", Excerpt(kv))
		}
		if _, dup := ls.Get(k); dup {
			return "", fmt.Errorf("dimension %q given twice", Excerpt(k))
		}
		if strings.ContainsAny(v, "=;") {
			return "", fmt.Errorf("dimension %q: value %q contains = or ;", Excerpt(k), Excerpt(v))
		}
		ls = append(ls, spec.Label{Name: k, Value: v})
	}
	return ls.Canonical(), nil
}
