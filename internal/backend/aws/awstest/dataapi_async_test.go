package awstest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata"
	"github.com/aws/aws-sdk-go-v2/service/redshiftdata/types"

	"github.com/dpc-learning/dpcops/internal/backend/aws/awstest"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
)

func TestHeldStatementStaysStartedUntilReleased(t *testing.T) {
	srv, c, _ := dataAPI(t)
	release := srv.HoldStatements()
	t.Cleanup(release)
	id := execute(t, c, "SELECT 1 AS one")
	for range 3 {
		if d := describe(t, c, id); d.Status != types.StatusStringStarted || d.ResultRows != -1 || d.Duration != -1 {
			t.Fatalf("held statement: %s, rows %d, duration %d", d.Status, d.ResultRows, d.Duration)
		}
	}
	var invalid *types.ValidationException
	if _, err := c.GetStatementResult(context.Background(), &redshiftdata.GetStatementResultInput{Id: aws.String(id)}); !errors.As(err, &invalid) {
		t.Errorf("result of a STARTED statement: %v, want ValidationException", err)
	}
	release()
	if d := await(t, c, id); d.Status != types.StatusStringFinished || d.ResultRows != 1 {
		t.Errorf("released: %s, rows %d", d.Status, d.ResultRows)
	}
}

func TestCancelAbortsHeldAndRunningStatements(t *testing.T) {
	srv, c, conn := dataAPI(t)
	ctx := context.Background()
	cancel := func(id string) {
		t.Helper()
		out, err := c.CancelStatement(ctx, &redshiftdata.CancelStatementInput{Id: aws.String(id)})
		if err != nil || !aws.ToBool(out.Status) {
			t.Fatalf("CancelStatement: %v", err)
		}
		if d := describe(t, c, id); d.Status != types.StatusStringAborted {
			t.Fatalf("cancelled statement is %s", d.Status)
		}
	}

	release := srv.HoldStatements()
	held := execute(t, c, "SELECT 1")
	cancel(held)
	release()
	var invalid *types.ValidationException
	if _, err := c.CancelStatement(ctx, &redshiftdata.CancelStatementInput{Id: aws.String(held)}); !errors.As(err, &invalid) {
		t.Errorf("cancelling an ABORTED statement: %v, want ValidationException", err)
	}

	const sleep = "SELECT pg_sleep(600)"
	running := execute(t, c, sleep)
	pgtest.WaitFor(t, ctx, conn, "the statement to run on PostgreSQL",
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE datname = current_database() AND query = $1 AND state = 'active'", sleep)
	cancel(running)
	pgtest.WaitFor(t, ctx, conn, "PostgreSQL to stop the cancelled query",
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = current_database() AND query = $1 AND state = 'active'", sleep)
	if d := describe(t, c, running); d.Status != types.StatusStringAborted {
		t.Errorf("after the query ended on PostgreSQL, the statement is %s", d.Status)
	}
	var missing *types.ResourceNotFoundException
	if _, err := c.CancelStatement(ctx, &redshiftdata.CancelStatementInput{Id: aws.String("11111111-2222-4333-8444-555555555555")}); !errors.As(err, &missing) {
		t.Errorf("cancelling an unknown statement: %v, want ResourceNotFoundException", err)
	}
}

func TestResultIsPaged(t *testing.T) {
	srv, c, _ := dataAPI(t)
	srv.DataAPIPageRows = 3
	id := execute(t, c, "SELECT g AS n FROM generate_series(1, 8) g ORDER BY g")
	if d := await(t, c, id); d.Status != types.StatusStringFinished || d.ResultRows != 8 {
		t.Fatalf("%s, rows %d", d.Status, d.ResultRows)
	}
	var pages []int
	var got []int64
	p := redshiftdata.NewGetStatementResultPaginator(c, &redshiftdata.GetStatementResultInput{Id: aws.String(id)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalNumRows != 8 || len(page.ColumnMetadata) != 1 {
			t.Errorf("page: total %d, %d columns", page.TotalNumRows, len(page.ColumnMetadata))
		}
		pages = append(pages, len(page.Records))
		for _, rec := range page.Records {
			got = append(got, rec[0].(*types.FieldMemberLongValue).Value)
		}
	}
	if len(pages) != 3 || pages[0] != 3 || pages[1] != 3 || pages[2] != 2 {
		t.Errorf("pages of %v records, want 3 3 2", pages)
	}
	for i, n := range got {
		if n != int64(i+1) {
			t.Fatalf("rows %v, want 1..8 in order", got)
		}
	}
}

func TestRefusedStatements(t *testing.T) {
	srv, c, _ := dataAPI(t)
	s := aws.String
	param := func(name, value string) []types.SqlParameter {
		return []types.SqlParameter{{Name: s(name), Value: s(value)}}
	}
	for _, tc := range []struct {
		name string
		in   redshiftdata.ExecuteStatementInput
	}{
		{"unknown workgroup", redshiftdata.ExecuteStatementInput{Sql: s("SELECT 1"), WorkgroupName: s("nope"), Database: s("dev")}},
		{"no workgroup", redshiftdata.ExecuteStatementInput{Sql: s("SELECT 1"), Database: s("dev")}},
		{"no database", redshiftdata.ExecuteStatementInput{Sql: s("SELECT 1"), WorkgroupName: s("dpc-learning")}},
		{"cluster", redshiftdata.ExecuteStatementInput{Sql: s("SELECT 1"), ClusterIdentifier: s("c1"), WorkgroupName: s("dpc-learning"), Database: s("dev")}},
		{"secret", redshiftdata.ExecuteStatementInput{Sql: s("SELECT 1"), SecretArn: s("arn:aws:secretsmanager:x"), WorkgroupName: s("dpc-learning"), Database: s("dev")}},
		{"db user", redshiftdata.ExecuteStatementInput{Sql: s("SELECT 1"), DbUser: s("admin"), WorkgroupName: s("dpc-learning"), Database: s("dev")}},
		{"parameter not used", redshiftdata.ExecuteStatementInput{Sql: s("SELECT 1"), WorkgroupName: s("dpc-learning"), Database: s("dev"), Parameters: param("x", "1")}},
		{"parameter not given", redshiftdata.ExecuteStatementInput{Sql: s("SELECT :x"), WorkgroupName: s("dpc-learning"), Database: s("dev")}},
		{"parameter used only in a literal", redshiftdata.ExecuteStatementInput{Sql: s("SELECT ':x'"), WorkgroupName: s("dpc-learning"), Database: s("dev"), Parameters: param("x", "1")}},
		{"empty parameter value", redshiftdata.ExecuteStatementInput{Sql: s("SELECT :x"), WorkgroupName: s("dpc-learning"), Database: s("dev"), Parameters: param("x", "")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.ExecuteStatement(context.Background(), &tc.in)
			var invalid *types.ValidationException
			if !errors.As(err, &invalid) {
				t.Errorf("got %v, want ValidationException", err)
			}
		})
	}
	if st := srv.Statements(); len(st) != 0 {
		t.Errorf("refused statements were recorded: %+v", st)
	}
	var missing *types.ResourceNotFoundException
	if _, err := c.DescribeStatement(context.Background(), &redshiftdata.DescribeStatementInput{Id: s("11111111-2222-4333-8444-555555555555")}); !errors.As(err, &missing) {
		t.Errorf("describing an unknown statement: %v, want ResourceNotFoundException", err)
	}
}

func TestInjectedDataAPIFailureIsRetried(t *testing.T) {
	srv, c, _ := dataAPI(t)
	srv.FailNext("DescribeStatement", awstest.Failure{Status: 500, Type: "InternalServerException"})
	if d := await(t, c, execute(t, c, "SELECT 1")); d.Status != types.StatusStringFinished {
		t.Errorf("after a 500: %s", d.Status)
	}
	n := 0
	for _, call := range srv.Calls() {
		if call.Operation == "ExecuteStatement" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d ExecuteStatement calls recorded, want 1", n)
	}
}
