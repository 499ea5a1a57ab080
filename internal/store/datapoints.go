package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Datapoint is one reading of one series.
type Datapoint struct {
	Metric string
	// Dims is the canonical dimension string, "k=v;k=v" sorted by key
	// (spec.Labels.Canonical).
	Dims  string
	Unit  string
	Time  time.Time
	Value float64
}

// Point is a time and a value of one series.
type Point struct {
	Time  time.Time
	Value float64
}

// Series identifies a stored series.
type Series struct {
	ID     int64
	Metric string
	Dims   string
	Unit   string
}

// InsertDatapoints writes a batch of datapoints in one transaction: after a
// crash the batch is wholly present or wholly absent. A datapoint at the
// same time as a stored one of its series replaces it. NaN and infinite
// values are refused, since no statistic can use them.
func (s *Store) InsertDatapoints(ctx context.Context, batch []Datapoint) error {
	if len(batch) == 0 {
		return nil
	}
	return s.WriteCycle(ctx, CycleWrite{Datapoints: batch})
}

func checkDatapoints(batch []Datapoint) error {
	for i, dp := range batch {
		if dp.Metric == "" {
			return fmt.Errorf("datapoint %d: no metric", i)
		}
		if math.IsNaN(dp.Value) || math.IsInf(dp.Value, 0) {
			return fmt.Errorf("datapoint %d (%s): value %v is not a finite number", i, dp.Metric, dp.Value)
		}
	}
	return nil
}

// insertDatapoints writes datapoints inside tx. Series it creates are
// added to created; the caller caches them once tx commits.
func (s *Store) insertDatapoints(ctx context.Context, tx *sql.Tx, batch []Datapoint, created map[seriesKey]int64) error {
	rows := make([]row, len(batch))
	for i, dp := range batch {
		id, err := s.seriesID(ctx, tx, dp, created)
		if err != nil {
			return err
		}
		rows[i] = row{id, Millis(dp.Time), dp.Value}
	}
	// In key order, each series' new rows land together at the end of its
	// run in the B-tree: fewer pages touched, fewer splits. The sort is
	// stable so that of two datapoints at one time the later wins.
	slices.SortStableFunc(rows, func(a, b row) int {
		if c := cmp.Compare(a.series, b.series); c != 0 {
			return c
		}
		return cmp.Compare(a.ts, b.ts)
	})
	// Of two datapoints of one series at one time the later wins here, not
	// in the INSERT: PostgreSQL's ON CONFLICT may not touch a row twice in
	// one statement.
	rows = lastPerKey(rows)
	args := make([]any, 0, 3*insertChunk)
	var full *Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	for start := 0; start < len(rows); start += insertChunk {
		chunk := rows[start:min(start+insertChunk, len(rows))]
		args = args[:0]
		for _, r := range chunk {
			args = append(args, r.series, r.ts, r.value)
		}
		stmt, err := s.chunkStmt(ctx, tx, len(chunk), &full)
		if err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// lastPerKey keeps, of each run of rows with one series and time, the
// last; rows are sorted by series and time.
func lastPerKey(rows []row) []row {
	out := rows[:0]
	for i, r := range rows {
		if i+1 < len(rows) && rows[i+1].series == r.series && rows[i+1].ts == r.ts {
			continue
		}
		out = append(out, r)
	}
	return out
}

// row is a datapoint as stored.
type row struct {
	series int64
	ts     int64
	value  float64
}

// insertChunk is the number of datapoints per INSERT statement: one
// statement of many rows costs far less than many statements of one.
const insertChunk = 500

// chunkStmt prepares the INSERT for n rows; the statement for a full chunk
// is kept in *full and reused.
func (s *Store) chunkStmt(ctx context.Context, tx *sql.Tx, n int, full **Stmt) (*Stmt, error) {
	if n == insertChunk && *full != nil {
		return *full, nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO datapoints (series_id, ts, value) VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, ?)")
	}
	b.WriteString(" ON CONFLICT (series_id, ts) DO UPDATE SET value = excluded.value")
	stmt, err := s.PrepareTx(ctx, tx, b.String())
	if err != nil {
		return nil, err
	}
	if n == insertChunk {
		*full = stmt
	}
	return stmt, nil
}

// seriesID finds or creates the series of a datapoint inside tx.
func (s *Store) seriesID(ctx context.Context, tx *sql.Tx, dp Datapoint, created map[seriesKey]int64) (int64, error) {
	k := seriesKey{dp.Metric, dp.Dims}
	if id, ok := created[k]; ok {
		return id, nil
	}
	s.seriesMu.Lock()
	id, ok := s.seriesIDs[k]
	s.seriesMu.Unlock()
	if ok {
		return id, nil
	}
	unit := dp.Unit
	if unit == "" {
		unit = "None"
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO series (metric, dims, unit) VALUES (?, ?, ?)
		ON CONFLICT (metric, dims) DO UPDATE SET unit = excluded.unit RETURNING id`, dp.Metric, dp.Dims, unit).Scan(&id)
	if err != nil {
		return 0, err
	}
	created[k] = id
	return id, nil
}

// ListSeries returns the stored series of a metric (of every metric when
// metric is "").
func (s *Store) ListSeries(ctx context.Context, metric string) ([]Series, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT id, metric, dims, unit FROM series
		WHERE ? = '' OR metric = ? ORDER BY metric, dims`, metric, metric)
	if err != nil {
		return nil, fmt.Errorf("list series: %w", err)
	}
	defer rows.Close()
	var out []Series
	for rows.Next() {
		var se Series
		if err := rows.Scan(&se.ID, &se.Metric, &se.Dims, &se.Unit); err != nil {
			return nil, err
		}
		out = append(out, se)
	}
	return out, rows.Err()
}

// Points returns the datapoints of one series with from <= time < to, in
// time order. An unknown series has no points.
func (s *Store) Points(ctx context.Context, metric, dims string, from, to time.Time) ([]Point, error) {
	var id int64
	err := s.reader.QueryRowContext(ctx, `SELECT id FROM series WHERE metric = ? AND dims = ?`, metric, dims).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("points of %s: %w", metric, err)
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT ts, value FROM datapoints
		WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts`, id, Millis(from), Millis(to))
	if err != nil {
		return nil, fmt.Errorf("points of %s: %w", metric, err)
	}
	defer rows.Close()
	var out []Point
	for rows.Next() {
		var ts int64
		var p Point
		if err := rows.Scan(&ts, &p.Value); err != nil {
			return nil, err
		}
		p.Time = FromMillis(ts)
		out = append(out, p)
	}
	return out, rows.Err()
}

// CountDatapoints returns the number of stored datapoints.
func (s *Store) CountDatapoints(ctx context.Context) (int64, error) {
	var n int64
	err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM datapoints`).Scan(&n)
	return n, err
}

// FirstDatapointBefore returns the time of the earliest datapoint of any
// series stored before before, and false when there is none. The capacity
// report calls it to tell where the store's data of a month begins: a
// month whose data starts late (retention, or collection begun since) has
// its missing start estimated rather than counted as idle.
func (s *Store) FirstDatapointBefore(ctx context.Context, before time.Time) (time.Time, bool, error) {
	var first sql.NullInt64
	// One probe of the primary key (series_id, ts) per series, rather than
	// a scan of every datapoint.
	err := s.reader.QueryRowContext(ctx, `SELECT min((SELECT min(d.ts) FROM datapoints d WHERE d.series_id = s.id AND d.ts < ?)) FROM series s`,
		Millis(before)).Scan(&first)
	if err != nil || !first.Valid {
		return time.Time{}, false, err
	}
	return FromMillis(first.Int64), true, nil
}

// IntegrityCheck runs SQLite's integrity check and returns its findings
// ("ok" for a sound database).
func (s *Store) IntegrityCheck(ctx context.Context) (string, error) {
	if s.pg {
		// The server checks its own pages; there is no such check to run.
		return "ok", s.reader.PingContext(ctx)
	}
	var res string
	err := s.reader.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res)
	return res, err
}

// Aggregates are the statistics Aggregate computes in SQL.
var Aggregates = map[string]string{
	"Average": "avg", "Sum": "sum", "Minimum": "min", "Maximum": "max", "SampleCount": "count",
}

// Aggregate returns one value per period of [from, to) with data: the
// statistic (a key of Aggregates) of the period's datapoints, timed at the
// period's start. The database does the work, so that a week of one-minute
// data never crosses into Go row by row.
func (s *Store) Aggregate(ctx context.Context, metric, dims string, from, to time.Time, period time.Duration, statistic string) ([]Point, error) {
	fn, ok := Aggregates[statistic]
	if !ok {
		return nil, fmt.Errorf("aggregate: statistic %q is not one of Average, Sum, Minimum, Maximum, SampleCount", statistic)
	}
	p := period.Milliseconds()
	if p <= 0 {
		return nil, fmt.Errorf("aggregate: period %v", period)
	}
	// fn comes from the fixed map above, never from the caller.
	q := `SELECT (d.ts - ?1) / ?2 AS b, ` + fn + `(d.value) FROM series s JOIN datapoints d ON d.series_id = s.id
		WHERE s.metric = ?3 AND s.dims = ?4 AND d.ts >= ?1 AND d.ts < ?5 GROUP BY b ORDER BY b`
	rows, err := s.reader.QueryContext(ctx, q, Millis(from), p, metric, dims, Millis(to))
	if err != nil {
		return nil, fmt.Errorf("aggregate %s: %w", metric, err)
	}
	defer rows.Close()
	var out []Point
	for rows.Next() {
		var b int64
		var v float64
		if err := rows.Scan(&b, &v); err != nil {
			return nil, err
		}
		out = append(out, Point{Time: FromMillis(Millis(from) + b*p), Value: v})
	}
	return out, rows.Err()
}
