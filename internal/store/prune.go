package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// PruneBatch is the most rows one prune transaction looks at. Each batch
// commits on its own, so a prune of a large backlog never holds the write
// lock for more than a few milliseconds: the engines' writes, queued on the
// same writer, go between the batches.
const PruneBatch = 500

// datapointBatch is PruneBatch for datapoints, whose rows are a few bytes
// each: a larger batch costs about what 500 records do.
const datapointBatch = 5000

// Pruned says what a prune deleted.
type Pruned struct {
	// Rows deleted, those of child tables included.
	Rows int64
	// Batches is the number of write transactions the prune took.
	Batches int
}

// Pruning describes the prune of one table, run by PruneRows.
type Pruning struct {
	// Table names the table, for errors.
	Table string
	// Candidates selects the rows old enough to go, in id order: three
	// columns (id, alarm, at in Unix ms; '' and 0 where Keep needs
	// neither), ?1 the id to start after, ?2 the limit, ?3 onwards Args.
	// It should walk the primary key from ?1 and stop at the limit: a
	// unary + on an indexed column ("+at < ?3") keeps SQLite from
	// scanning that index and sorting every old row on each batch.
	// It should say "AND id < (SELECT max(id) FROM table)": the newest row
	// stays, so that SQLite never hands its id to a new row (ids are seen
	// by receivers and in links, and must not come back).
	Candidates string
	Args       []any
	// Keep, when set, spares candidates that something else still reads
	// (an incident's timeline).
	Keep func(alarm string, at time.Time) bool
	// Deletes run on each batch's ids, children first; each has one %s
	// for the ids' placeholders.
	Deletes []string
}

// PruneRows deletes p's candidates in batches of PruneBatch, each in its
// own write transaction: candidates are selected, filtered by Keep and
// deleted in the same transaction, so nothing can start to need a row
// between the choice and the delete. It stops at the first batch with
// fewer than PruneBatch candidates.
func (s *Store) PruneRows(ctx context.Context, p Pruning) (Pruned, error) {
	var out Pruned
	var after int64
	for {
		seen := 0
		var batch int64
		err := s.WriteTx(ctx, func(tx *sql.Tx) error {
			ids, last, n, err := candidates(ctx, tx, p, after)
			if err != nil {
				return err
			}
			seen, after = n, last
			if len(ids) == 0 {
				return nil
			}
			marks := "?" + strings.Repeat(", ?", len(ids)-1)
			for _, d := range p.Deletes {
				res, err := tx.ExecContext(ctx, fmt.Sprintf(d, marks), ids...)
				if err != nil {
					return err
				}
				n, err := res.RowsAffected()
				if err != nil {
					return err
				}
				batch += n
			}
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("prune %s: %w", p.Table, err)
		}
		// Counted once the batch committed: a rolled-back one pruned none.
		out.Rows += batch
		out.Batches++
		if seen < PruneBatch {
			return out, nil
		}
	}
}

// candidates reads one batch of p's candidates after the id after, and
// returns the ids to delete, the last id seen and the number seen.
func candidates(ctx context.Context, tx *sql.Tx, p Pruning, after int64) ([]any, int64, int, error) {
	rows, err := tx.QueryContext(ctx, p.Candidates, append([]any{after, PruneBatch}, p.Args...)...)
	if err != nil {
		return nil, 0, 0, err
	}
	defer rows.Close()
	var ids []any
	last, seen := after, 0
	for rows.Next() {
		var id, at int64
		var alarm string
		if err := rows.Scan(&id, &alarm, &at); err != nil {
			return nil, 0, 0, err
		}
		seen++
		last = id
		if p.Keep == nil || !p.Keep(alarm, FromMillis(at)) {
			ids = append(ids, id)
		}
	}
	return ids, last, seen, rows.Err()
}

// PruneDatapoints deletes datapoints older than before, in batches.
func (s *Store) PruneDatapoints(ctx context.Context, before time.Time) (Pruned, error) {
	var out Pruned
	for {
		var n int64
		err := s.WriteTx(ctx, func(tx *sql.Tx) error {
			// Per series, so that the delete walks the primary key
			// instead of scanning the table: datapoints need no index on
			// time alone.
			res, err := tx.ExecContext(ctx, `DELETE FROM datapoints WHERE (series_id, ts) IN
				(SELECT d.series_id, d.ts FROM series s JOIN datapoints d ON d.series_id = s.id AND d.ts < ? LIMIT ?)`,
				Millis(before), datapointBatch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return out, fmt.Errorf("prune datapoints: %w", err)
		}
		out.Rows += n
		out.Batches++
		if n < datapointBatch {
			return out, nil
		}
	}
}

// PruneLogs deletes log lines older than before, in batches.
func (s *Store) PruneLogs(ctx context.Context, before time.Time) (Pruned, error) {
	return s.PruneRows(ctx, Pruning{
		Table: "log_lines",
		// Log lines' ids are seen nowhere: the newest may go too.
		Candidates: `SELECT id, '', 0 FROM log_lines WHERE id > ?1 AND +ts < ?3 ORDER BY id LIMIT ?2`,
		Args:       []any{Millis(before)},
		Deletes:    []string{`DELETE FROM log_lines WHERE id IN (%s)`},
	})
}

// PrunePipelineRuns deletes the runs that started before before, in
// batches.
func (s *Store) PrunePipelineRuns(ctx context.Context, before time.Time) (Pruned, error) {
	return s.PruneRows(ctx, Pruning{
		Table:      "pipeline_runs",
		Candidates: `SELECT id, '', 0 FROM pipeline_runs WHERE id > ?1 AND +started_at < ?3 ORDER BY id LIMIT ?2`,
		Args:       []any{Millis(before)},
		Deletes:    []string{`DELETE FROM pipeline_runs WHERE id IN (%s)`},
	})
}

// ForeignKeyCheck runs SQLite's foreign key check and returns its
// findings, one "table row N refers to missing parent" line each; empty
// when every reference holds.
func (s *Store) ForeignKeyCheck(ctx context.Context) ([]string, error) {
	if s.pg {
		// PostgreSQL enforces every foreign key at each statement: a
		// dangling reference cannot be committed.
		return nil, nil
	}
	rows, err := s.reader.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var table, parent string
		var row sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &row, &parent, &fk); err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprintf("%s row %d refers to a missing %s", table, row.Int64, parent))
	}
	return out, rows.Err()
}
