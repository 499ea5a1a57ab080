package maintain

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/store"
)

// CompressionRow is one line of ANALYZE COMPRESSION's report: the encoding
// Redshift recommends for a column and the size reduction it expects.
type CompressionRow struct {
	Table           string    `json:"table"`
	Column          string    `json:"column"`
	Encoding        string    `json:"encoding"`
	EstReductionPct float64   `json:"est_reduction_pct"`
	RunID           int64     `json:"run_id"`
	At              time.Time `json:"at"`
}

// NoCompressionOnPostgres is what a compression job records on PostgreSQL.
const NoCompressionOnPostgres = "PostgreSQL has no ANALYZE COMPRESSION and no column encodings to choose: nothing to run"

// parseCompression reads ANALYZE COMPRESSION's answer: columns Table,
// Column, Encoding, Est_reduction_pct, found by name.
func parseCompression(r pgwire.Result) ([]CompressionRow, error) {
	idx := map[string]int{}
	for i, c := range r.Columns {
		idx[strings.ToLower(c)] = i
	}
	for _, need := range []string{"table", "column", "encoding", "est_reduction_pct"} {
		if _, ok := idx[need]; !ok {
			return nil, fmt.Errorf("ANALYZE COMPRESSION answered without a %s column (columns %v)", need, r.Columns)
		}
	}
	var out []CompressionRow
	for _, row := range r.Rows {
		c := CompressionRow{
			Table:    strings.TrimSpace(row[idx["table"]].Text),
			Column:   strings.TrimSpace(row[idx["column"]].Text),
			Encoding: strings.TrimSpace(row[idx["encoding"]].Text),
		}
		pct, err := row[idx["est_reduction_pct"]].Float()
		if err != nil {
			return nil, fmt.Errorf("ANALYZE COMPRESSION: column %s.%s: est_reduction_pct: %w", c.Table, c.Column, err)
		}
		c.EstReductionPct = pct
		out = append(out, c)
	}
	return out, nil
}

// ReadCompression returns the latest ANALYZE COMPRESSION report of each
// table, ordered by table and column.
func ReadCompression(ctx context.Context, st *store.Store) ([]CompressionRow, error) {
	rows, err := st.Reader().QueryContext(ctx, `
		WITH latest AS (
			SELECT c.table_name, max(c.run_id) AS run_id FROM maintenance_compression c GROUP BY c.table_name
		)
		SELECT c.table_name, c.column_name, c.encoding, c.est_reduction_pct, c.run_id, coalesce(r.finished_at, r.started_at)
		  FROM maintenance_compression c
		  JOIN latest l ON l.table_name = c.table_name AND l.run_id = c.run_id
		  JOIN maintenance_runs r ON r.id = c.run_id
		 ORDER BY c.table_name, c.column_name`)
	if err != nil {
		return nil, fmt.Errorf("read compression report: %w", err)
	}
	defer rows.Close()
	var out []CompressionRow
	for rows.Next() {
		var c CompressionRow
		var at int64
		if err := rows.Scan(&c.Table, &c.Column, &c.Encoding, &c.EstReductionPct, &c.RunID, &at); err != nil {
			return nil, err
		}
		c.At = store.FromMillis(at)
		out = append(out, c)
	}
	return out, rows.Err()
}
