package demo

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// loadError is a rejected row, with the columns of SYS_LOAD_ERROR_DETAIL.
type loadError struct {
	file    string
	line    int
	column  string
	ctype   string
	code    int
	message string
}

// pipeline is the demo's ELT: COPY the batch's files into raw, build
// staging and marts, and record the run in ops.pipeline_runs and its
// rejected rows in ops.load_errors, as a real orchestrator would.
type pipeline struct {
	conn *pgx.Conn
	name string
	gen  *generator
	next int64
}

// runResult says how a run ended.
type runResult struct {
	id       int64
	ok       bool
	rejected int
	loaded   int
}

// run loads one batch. bad malformed rows make the COPY step reject them
// and the run fail, as the seed's runbook expects ("COPY error: batch
// failed").
func (p *pipeline) run(ctx context.Context, admissions, bad int) (runResult, error) {
	var res runResult
	if err := p.conn.QueryRow(ctx, `INSERT INTO ops.pipeline_runs (pipeline) VALUES ($1) RETURNING id`, p.name).Scan(&res.id); err != nil {
		return res, err
	}
	p.next++
	b := p.gen.batch(p.next, time.Now().UTC(), admissions, bad)
	month := time.Now().UTC().Format("2006-01")
	form1File := fmt.Sprintf("s3://dpc-learning-raw/form1/%s/%s-%03d.csv", month, b.facility.code, b.id)
	efFile := fmt.Sprintf("s3://dpc-learning-raw/ef/%s/%s-%03d.csv", month, b.facility.code, b.id)
	var rejected []loadError
	steps := []struct {
		name string
		do   func() error
	}{
		{"copy_raw_form1", func() error {
			n, errs, err := p.copyRows(ctx, "form1", form1File, b.id, b.form1, form1Columns, parseForm1)
			res.loaded += n
			rejected = append(rejected, errs...)
			return err
		}},
		{"copy_raw_ef", func() error {
			n, errs, err := p.copyRows(ctx, "ef_lines", efFile, b.id, b.ef, efColumns, parseEF)
			res.loaded += n
			rejected = append(rejected, errs...)
			if err == nil && len(rejected) > 0 {
				err = p.recordRejected(ctx, rejected)
				if err == nil {
					err = fmt.Errorf("COPY rejected %d row(s); see ops.load_errors", len(rejected))
				}
			}
			return err
		}},
		{"build_staging", func() error {
			if err := p.exec(ctx, stagingEpisodesSQL, b.id); err != nil {
				return err
			}
			return p.exec(ctx, stagingEFSQL, b.id)
		}},
		{"build_marts", func() error { return p.exec(ctx, martsSQL) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			res.rejected = len(rejected)
			_, uerr := p.conn.Exec(ctx, `UPDATE ops.pipeline_runs SET status = 'failed', finished_at = now(), failed_step = $2, error = $3 WHERE id = $1`,
				res.id, s.name, err.Error())
			if uerr != nil {
				return res, uerr
			}
			return res, nil
		}
	}
	res.ok = true
	_, err := p.conn.Exec(ctx, `UPDATE ops.pipeline_runs SET status = 'succeeded', finished_at = now() WHERE id = $1`, res.id)
	return res, err
}

func (p *pipeline) exec(ctx context.Context, sql string, args ...any) error {
	_, err := p.conn.Exec(ctx, sql, args...)
	return err
}

// copyRows parses the rows as COPY would, loads the good ones, and
// returns the rejected ones.
func (p *pipeline) copyRows(ctx context.Context, table, file string, batchID int64, rows [][]string, cols []string,
	parse func([]string) ([]any, *loadError)) (int, []loadError, error) {
	var good [][]any
	var bad []loadError
	for i, r := range rows {
		vals, le := parse(r)
		if le != nil {
			le.file, le.line = file, i+1
			bad = append(bad, *le)
			continue
		}
		good = append(good, append([]any{batchID}, vals...))
	}
	n, err := p.conn.CopyFrom(ctx, pgx.Identifier{"raw", table}, append([]string{"batch_id"}, cols...), pgx.CopyFromRows(good))
	return int(n), bad, err
}

func (p *pipeline) recordRejected(ctx context.Context, rows []loadError) error {
	b := &pgx.Batch{}
	for _, r := range rows {
		b.Queue(`INSERT INTO ops.load_errors (database_name, file_name, line_number, column_name, column_type, error_code, error_message)
			VALUES (current_database(), $1, $2, $3, $4, $5, $6)`, r.file, r.line, r.column, r.ctype, r.code, r.message)
	}
	return p.conn.SendBatch(ctx, b).Close()
}

const stagingEpisodesSQL = `
INSERT INTO staging.episodes
SELECT DISTINCT ON (facility_code, patient_id, admission_date)
       facility_code, patient_id, admission_date, discharge_date, discharge_date - admission_date,
       sex, extract(year FROM age(admission_date, birth_date))::int, main_icd10, dpc_code, left(dpc_code, 6)
  FROM raw.form1 WHERE batch_id = $1
ON CONFLICT DO NOTHING`

const stagingEFSQL = `
INSERT INTO staging.ef_lines
SELECT facility_code, patient_id, admission_date, service_date, data_category, receipt_code, quantity, points
  FROM raw.ef_lines WHERE batch_id = $1`

const martsSQL = `
INSERT INTO mart.los_by_dpc
SELECT dpc_code, facility_code, count(*), round(avg(los_days), 1), now() FROM staging.episodes GROUP BY 1, 2
ON CONFLICT (dpc_code, facility_code) DO UPDATE SET cases = excluded.cases, avg_los = excluded.avg_los, updated_at = now();
INSERT INTO mart.cost_per_episode
SELECT facility_code, patient_id, admission_date, sum(points), sum(points) * 10, now() FROM staging.ef_lines GROUP BY 1, 2, 3
ON CONFLICT (facility_code, patient_id, admission_date) DO UPDATE SET total_points = excluded.total_points, yen = excluded.yen, updated_at = now();
INSERT INTO mart.monthly_volume
SELECT date_trunc('month', e.discharge_date)::date, e.facility_code, count(DISTINCT e.patient_id), 0, now()
  FROM staging.episodes e GROUP BY 1, 2
ON CONFLICT (month, facility_code) DO UPDATE SET discharges = excluded.discharges, updated_at = now()`

func parseDate(s, col string) (time.Time, *loadError) {
	t, err := time.Parse("20060102", s)
	if err != nil {
		return t, &loadError{column: col, ctype: "date", code: 1205, message: fmt.Sprintf("Invalid Date Format - length must be 10 or more, Value '%s'", s)}
	}
	return t, nil
}

func parseInt(s, col string) (int, *loadError) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, &loadError{column: col, ctype: "int4", code: 1207, message: fmt.Sprintf("Invalid digit, Value '%s', Pos 0, Type: Integer", s)}
	}
	return n, nil
}

func columns(r []string, want int) *loadError {
	if len(r) < want {
		return &loadError{code: 1214, message: "Delimiter not found"}
	}
	if len(r) > want {
		return &loadError{code: 1202, message: "Extra column(s) found"}
	}
	return nil
}

func parseForm1(r []string) ([]any, *loadError) {
	if le := columns(r, len(form1Columns)); le != nil {
		return nil, le
	}
	birth, le := parseDate(r[3], "birth_date")
	if le != nil {
		return nil, le
	}
	admit, le := parseDate(r[4], "admission_date")
	if le != nil {
		return nil, le
	}
	discharge, le := parseDate(r[5], "discharge_date")
	if le != nil {
		return nil, le
	}
	h, le := parseInt(r[10], "height_cm")
	if le != nil {
		return nil, le
	}
	w, le := parseInt(r[11], "weight_kg")
	if le != nil {
		return nil, le
	}
	return []any{r[0], r[1], r[2], birth, admit, discharge, r[6], r[7], r[8], r[9], h, w}, nil
}

func parseEF(r []string) ([]any, *loadError) {
	if le := columns(r, len(efColumns)); le != nil {
		return nil, le
	}
	admit, le := parseDate(r[2], "admission_date")
	if le != nil {
		return nil, le
	}
	order, le := parseInt(r[4], "order_no")
	if le != nil {
		return nil, le
	}
	line, le := parseInt(r[5], "line_no")
	if le != nil {
		return nil, le
	}
	qty, le := parseInt(r[8], "quantity")
	if le != nil {
		return nil, le
	}
	points, le := parseInt(r[10], "points")
	if le != nil {
		return nil, le
	}
	day, le := parseDate(r[11], "service_date")
	if le != nil {
		return nil, le
	}
	return []any{r[0], r[1], admit, r[3], order, line, r[6], r[7], qty, r[9], points, day, r[12], r[13]}, nil
}
