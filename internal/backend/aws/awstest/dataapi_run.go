package awstest

import (
	"context"
	"encoding/hex"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgtype"
)

// result is what a finished statement returned, already in the Data
// API's JSON shapes (ColumnMetadata and Field unions).
type result struct {
	hasResult bool
	cols      []map[string]any
	records   [][]map[string]any
	// rows is the rows returned or affected; size the bytes of the text.
	rows, size int64
	// oids are the columns' types, named in cols once known.
	oids []uint32
}

// runOnPostgres runs one statement on its own connection, as the Data API
// runs each statement apart. Parameters go as text for the server to
// convert, as Redshift converts the Data API's string values. started
// learns the backend's pid, which DescribeStatement reports.
func runOnPostgres(ctx context.Context, dsn, sql string, args [][]byte, started func(pid uint32)) (result, error) {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return result{}, err
	}
	// Redshift's sessions are in UTC; timestamptz text depends on it.
	cfg.RuntimeParams["timezone"] = "UTC"
	// A cancelled statement must stop on the server too, not only lose
	// its connection: send a cancel request, as CancelStatement does.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 5 * time.Second}
	}
	connectCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	conn, err := pgconn.ConnectConfig(connectCtx, cfg)
	cancel()
	if err != nil {
		return result{}, pgMessage(err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(closeCtx)
	}()
	started(conn.PID())
	res, err := readResult(conn.ExecParams(ctx, sql, args, nil, nil, nil))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P18" {
		// PostgreSQL cannot type a parameter that stands alone (SELECT
		// :x); Redshift takes it for the string it is. The failed Parse
		// ran nothing, so trying again as text is safe.
		oids := make([]uint32, len(args))
		for i := range oids {
			oids[i] = pgtype.TextOID
		}
		res, err = readResult(conn.ExecParams(ctx, sql, args, oids, nil, nil))
	}
	if err != nil {
		return result{}, pgMessage(err)
	}
	types := pgtype.NewMap()
	for i, oid := range res.oids {
		name := "unknown"
		if t, ok := types.TypeForOID(oid); ok {
			name = t.Name
		} else {
			// Enums, domains and the like: ask the server.
			got := conn.ExecParams(ctx, "SELECT typname FROM pg_type WHERE oid = $1",
				[][]byte{[]byte(strconv.FormatUint(uint64(oid), 10))}, nil, nil, nil).Read()
			if got.Err == nil && len(got.Rows) == 1 {
				name = string(got.Rows[0][0])
			}
		}
		res.cols[i]["typeName"] = name
	}
	return res, nil
}

// pgMessage words a failure as Redshift's Error member does: the
// severity, then PostgreSQL's message.
func pgMessage(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return errors.New(pgErr.Severity + ": " + pgErr.Message)
	}
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	return errors.New("ERROR: " + err.Error())
}

// readResult reads every row, turning each value into its Field union.
func readResult(rr *pgconn.ResultReader) (result, error) {
	var res result
	fds := rr.FieldDescriptions()
	res.hasResult = len(fds) > 0
	for _, fd := range fds {
		res.cols = append(res.cols, columnMeta(fd))
		res.oids = append(res.oids, fd.DataTypeOID)
	}
	for rr.NextRow() {
		rec := make([]map[string]any, len(fds))
		for i, v := range rr.Values() {
			rec[i] = field(fds[i].DataTypeOID, v)
			res.size += int64(len(v))
		}
		res.records = append(res.records, rec)
	}
	tag, err := rr.Close()
	if err != nil {
		return result{}, err
	}
	res.rows = tag.RowsAffected()
	return res, nil
}

// field is one value as a Field union: integers as longValue, floats as
// doubleValue, booleans as booleanValue, bytea as blobValue, and every
// other type (numeric, dates, text) as the stringValue of its text, as
// the Data API answers.
func field(oid uint32, v []byte) map[string]any {
	if v == nil {
		return map[string]any{"isNull": true}
	}
	text := string(v)
	switch oid {
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID:
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return map[string]any{"longValue": n}
		}
	case pgtype.Float4OID, pgtype.Float8OID:
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				// JSON has no such numbers; awsJson spells them out.
				return map[string]any{"doubleValue": text}
			}
			return map[string]any{"doubleValue": f}
		}
	case pgtype.BoolOID:
		return map[string]any{"booleanValue": text == "t"}
	case pgtype.ByteaOID:
		if b, err := hex.DecodeString(strings.TrimPrefix(text, `\x`)); err == nil {
			return map[string]any{"blobValue": b}
		}
	}
	return map[string]any{"stringValue": text}
}

// columnMeta describes a column as ColumnMetadata does; precision and
// scale come from the type modifier, as in the JDBC metadata Redshift's
// mirrors.
func columnMeta(fd pgconn.FieldDescription) map[string]any {
	precision, scale, length := 0, 0, 0
	signed, caseSensitive := false, false
	switch fd.DataTypeOID {
	case pgtype.Int2OID:
		precision, signed = 5, true
	case pgtype.Int4OID:
		precision, signed = 10, true
	case pgtype.Int8OID:
		precision, signed = 19, true
	case pgtype.Float4OID:
		precision, signed = 8, true
	case pgtype.Float8OID:
		precision, signed = 17, true
	case pgtype.NumericOID:
		signed = true
		if fd.TypeModifier >= 4 {
			precision = int((fd.TypeModifier - 4) >> 16 & 0xffff)
			scale = int((fd.TypeModifier - 4) & 0xffff)
		}
	case pgtype.VarcharOID, pgtype.BPCharOID:
		caseSensitive = true
		if fd.TypeModifier >= 4 {
			length = int(fd.TypeModifier - 4)
			precision = length
		}
	case pgtype.TextOID, pgtype.NameOID:
		caseSensitive = true
	}
	return map[string]any{
		"name": fd.Name, "label": fd.Name,
		"nullable": 1, "isSigned": signed, "isCaseSensitive": caseSensitive, "isCurrency": false,
		"precision": precision, "scale": scale, "length": length,
		"schemaName": "", "tableName": "",
	}
}
