package awstest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata/types"
	"github.com/jackc/pgx/v5"

	"github.com/dpc-learning/dpcops/internal/backend/aws/awstest"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

// sdkConfig is what a client of the fake needs: a region and credentials
// to sign with; the endpoint is set per service.
func sdkConfig() aws.Config {
	return aws.Config{
		Region:      "ap-northeast-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret-key-for-test", ""),
	}
}

// dataAPI starts a fake whose workgroup dpc-learning has the database dev
// on a fresh PostgreSQL database, and returns a connection to that too.
func dataAPI(t *testing.T) (*awstest.Server, *redshiftdata.Client, *pgx.Conn) {
	t.Helper()
	dsn := pgtest.DB(t)
	srv := awstest.New()
	// Registered after pgtest.DB, so it runs first: statements let go of
	// the database before it is dropped.
	t.Cleanup(srv.Close)
	srv.SetDataAPI("dpc-learning", "dev", dsn)
	c := redshiftdata.NewFromConfig(sdkConfig(), func(o *redshiftdata.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	return srv, c, pgtest.Connect(t, dsn)
}

func execute(t *testing.T, c *redshiftdata.Client, sql string, params ...string) string {
	t.Helper()
	in := &redshiftdata.ExecuteStatementInput{Sql: aws.String(sql), WorkgroupName: aws.String("dpc-learning"), Database: aws.String("dev")}
	for i := 0; i+1 < len(params); i += 2 {
		in.Parameters = append(in.Parameters, types.SqlParameter{Name: aws.String(params[i]), Value: aws.String(params[i+1])})
	}
	out, err := c.ExecuteStatement(context.Background(), in)
	if err != nil {
		t.Fatalf("ExecuteStatement %q: %v", sql, err)
	}
	return aws.ToString(out.Id)
}

func describe(t *testing.T, c *redshiftdata.Client, id string) *redshiftdata.DescribeStatementOutput {
	t.Helper()
	out, err := c.DescribeStatement(context.Background(), &redshiftdata.DescribeStatementInput{Id: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeStatement: %v", err)
	}
	return out
}

// await polls a statement until it ends, as a client must: the fake runs
// it in the background. It waits on the statement's state, never on time,
// and gives up after 10 s.
func await(t *testing.T, c *redshiftdata.Client, id string) *redshiftdata.DescribeStatementOutput {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d := describe(t, c, id)
		switch d.Status {
		case types.StatusStringFinished, types.StatusStringFailed, types.StatusStringAborted:
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("statement %s still %s after 10s", id, d.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestParametersAndTypedFields(t *testing.T) {
	srv, c, conn := dataAPI(t)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `CREATE TABLE q (id int8, v numeric(10,2), at timestamp, ok bool, name varchar(20), r float4);
		INSERT INTO q VALUES (7, 12.5, '2026-11-27 03:00:00', true, 'it''s :id', 0.25), (8, 1, now(), false, 'other', 1)`); err != nil {
		t.Fatal(err)
	}
	sql := `SELECT :since::float8 + 1 AS x, 'a:b' AS y, id, v, at, ok, name, r, NULL::int AS n
		FROM q /* :since is not a use here */ WHERE id = :id -- nor :id here`
	id := execute(t, c, sql, "since", "1.5", "id", "7")
	d := await(t, c, id)
	if d.Status != types.StatusStringFinished || !aws.ToBool(d.HasResultSet) || d.ResultRows != 1 || d.Duration < 0 {
		t.Fatalf("describe: status %s, error %q, has result %v, rows %d, duration %d", d.Status, aws.ToString(d.Error), aws.ToBool(d.HasResultSet), d.ResultRows, d.Duration)
	}
	if aws.ToString(d.QueryString) != sql || len(d.QueryParameters) != 2 || aws.ToString(d.QueryParameters[1].Value) != "7" {
		t.Errorf("describe does not echo the statement: %q %+v", aws.ToString(d.QueryString), d.QueryParameters)
	}
	res, err := c.GetStatementResult(ctx, &redshiftdata.GetStatementResultInput{Id: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	var names, typeNames []string
	for _, col := range res.ColumnMetadata {
		names = append(names, aws.ToString(col.Name))
		typeNames = append(typeNames, aws.ToString(col.TypeName))
	}
	if got := strings.Join(names, " "); got != "x y id v at ok name r n" {
		t.Errorf("columns %s", got)
	}
	if got := strings.Join(typeNames, " "); got != "float8 text int8 numeric timestamp bool varchar float4 int4" {
		t.Errorf("column types %s", got)
	}
	if v := res.ColumnMetadata[3]; v.Precision != 10 || v.Scale != 2 {
		t.Errorf("numeric(10,2) metadata: precision %d scale %d", v.Precision, v.Scale)
	}
	if res.TotalNumRows != 1 || len(res.Records) != 1 || res.NextToken != nil {
		t.Fatalf("records %d of %d, next %v", len(res.Records), res.TotalNumRows, res.NextToken)
	}
	want := []types.Field{
		&types.FieldMemberDoubleValue{Value: 2.5},
		&types.FieldMemberStringValue{Value: "a:b"},
		&types.FieldMemberLongValue{Value: 7},
		&types.FieldMemberStringValue{Value: "12.50"},
		&types.FieldMemberStringValue{Value: "2026-11-27 03:00:00"},
		&types.FieldMemberBooleanValue{Value: true},
		&types.FieldMemberStringValue{Value: "it's :id"},
		&types.FieldMemberDoubleValue{Value: 0.25},
		&types.FieldMemberIsNull{Value: true},
	}
	for i, f := range res.Records[0] {
		if !sameField(f, want[i]) {
			t.Errorf("field %s = %#v, want %#v", names[i], f, want[i])
		}
	}
	st := srv.Statements()
	if len(st) != 1 || st[0].ID != id || st[0].SQL != sql || len(st[0].Parameters) != 2 ||
		!strings.Contains(st[0].Bound, "SELECT $1::float8 + 1 AS x, 'a:b' AS y") || !strings.Contains(st[0].Bound, "WHERE id = $2 -- nor :id") {
		t.Errorf("recorded %+v", st)
	}

	// A parameter that stands alone has no type PostgreSQL can infer;
	// Redshift takes it for the string it is.
	id = execute(t, c, "SELECT :word AS w", "word", "hello")
	if d := await(t, c, id); d.Status != types.StatusStringFinished {
		t.Fatalf("lone parameter: %s %q", d.Status, aws.ToString(d.Error))
	}
	res, err = c.GetStatementResult(ctx, &redshiftdata.GetStatementResultInput{Id: aws.String(id)})
	if err != nil || !sameField(res.Records[0][0], &types.FieldMemberStringValue{Value: "hello"}) {
		t.Errorf("lone parameter: %v %#v", err, res)
	}
}

func sameField(a, b types.Field) bool {
	switch a := a.(type) {
	case *types.FieldMemberDoubleValue:
		b, ok := b.(*types.FieldMemberDoubleValue)
		return ok && a.Value == b.Value
	case *types.FieldMemberStringValue:
		b, ok := b.(*types.FieldMemberStringValue)
		return ok && a.Value == b.Value
	case *types.FieldMemberLongValue:
		b, ok := b.(*types.FieldMemberLongValue)
		return ok && a.Value == b.Value
	case *types.FieldMemberBooleanValue:
		b, ok := b.(*types.FieldMemberBooleanValue)
		return ok && a.Value == b.Value
	case *types.FieldMemberIsNull:
		b, ok := b.(*types.FieldMemberIsNull)
		return ok && a.Value == b.Value
	}
	return false
}

func TestFailedAndResultlessStatements(t *testing.T) {
	_, c, _ := dataAPI(t)
	ctx := context.Background()
	var invalid *types.ValidationException
	id := execute(t, c, "SELECT * FROM no_such_table")
	d := await(t, c, id)
	if d.Status != types.StatusStringFailed || aws.ToString(d.Error) != `ERROR: relation "no_such_table" does not exist` {
		t.Errorf("failed statement: %s %q", d.Status, aws.ToString(d.Error))
	}
	if _, err := c.GetStatementResult(ctx, &redshiftdata.GetStatementResultInput{Id: aws.String(id)}); !errors.As(err, &invalid) {
		t.Errorf("result of a FAILED statement: %v, want ValidationException", err)
	}
	id = execute(t, c, "CREATE TABLE t (a int)")
	if d := await(t, c, id); d.Status != types.StatusStringFinished || aws.ToBool(d.HasResultSet) {
		t.Errorf("DDL: %s, has result %v", d.Status, aws.ToBool(d.HasResultSet))
	}
	if _, err := c.GetStatementResult(ctx, &redshiftdata.GetStatementResultInput{Id: aws.String(id)}); !errors.As(err, &invalid) {
		t.Errorf("result of a statement without a result set: %v, want ValidationException", err)
	}
	if d := await(t, c, execute(t, c, "INSERT INTO t SELECT generate_series(1, 3)")); d.ResultRows != 3 {
		t.Errorf("INSERT of 3 rows: ResultRows %d", d.ResultRows)
	}
	// The database is named only once the statement connects.
	out, err := c.ExecuteStatement(ctx, &redshiftdata.ExecuteStatementInput{Sql: aws.String("SELECT 1"), WorkgroupName: aws.String("dpc-learning"), Database: aws.String("nodb")})
	if err != nil {
		t.Fatal(err)
	}
	if d := await(t, c, aws.ToString(out.Id)); d.Status != types.StatusStringFailed || !strings.Contains(aws.ToString(d.Error), `database "nodb" does not exist`) {
		t.Errorf("unknown database: %s %q", d.Status, aws.ToString(d.Error))
	}
}
