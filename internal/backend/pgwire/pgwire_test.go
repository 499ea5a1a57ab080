package pgwire_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/pgcluster/pgtest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

func TestOneRoundTripIndependentFailures(t *testing.T) {
	c := pgwire.New(pgtest.DB(t), 5*time.Second, "dpcops-test")
	defer c.Close()
	res, err := c.Run(context.Background(), []pgwire.Query{
		{Name: "one", SQL: "SELECT 1 AS a, NULL::int AS b"},
		{Name: "bad", SQL: "SELECT 1 / 0"},
		{Name: "param", SQL: "SELECT $1::int + 1", Args: []string{"41"}},
		{Name: "missing", SQL: "SELECT * FROM no_such_table"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[0].Columns[0] != "a" || res[0].Rows[0][0].Text != "1" || !res[0].Rows[0][1].Null {
		t.Errorf("one: %+v", res[0])
	}
	var qe *pgwire.QueryError
	if !errors.As(res[1].Err, &qe) || qe.Code != "22012" {
		t.Errorf("bad: %v", res[1].Err)
	}
	if res[2].Err != nil || res[2].Rows[0][0].Text != "42" {
		t.Errorf("a query after a failed one must still run: %+v", res[2])
	}
	if res[3].Err == nil || !strings.Contains(res[3].Err.Error(), "no_such_table") {
		t.Errorf("missing: %v", res[3].Err)
	}
	if got := c.Statements(); got != 4 {
		t.Errorf("statements = %d, want 4", got)
	}
}

func TestStatementTimeoutCancelsOnlyTheSlowQuery(t *testing.T) {
	c := pgwire.New(pgtest.DB(t), 5*time.Second, "dpcops-test")
	defer c.Close()
	res, err := c.Run(context.Background(), []pgwire.Query{
		{Name: "slow", SQL: "SELECT pg_sleep(5)", Timeout: 100 * time.Millisecond},
		{Name: "fast", SQL: "SELECT 'ok'", Timeout: time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	var qe *pgwire.QueryError
	if !errors.As(res[0].Err, &qe) || !qe.Canceled() {
		t.Errorf("slow query: %v, want cancelled by its timeout", res[0].Err)
	}
	if res[1].Err != nil || res[1].Rows[0][0].Text != "ok" {
		t.Errorf("fast: %+v", res[1])
	}
	// Two SETs (one per timeout) and two queries.
	if got := c.Statements(); got != 4 {
		t.Errorf("statements = %d, want 4", got)
	}
}

func TestReconnectsAfterTheConnectionBreaks(t *testing.T) {
	dsn := pgtest.DB(t)
	ctx := context.Background()
	c := pgwire.New(dsn, 5*time.Second, "dpcops-victim")
	defer c.Close()
	if _, err := c.Run(ctx, []pgwire.Query{{SQL: "SELECT 1"}}); err != nil {
		t.Fatal(err)
	}
	admin := pgtest.Connect(t, dsn)
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'dpcops-victim'"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(ctx, []pgwire.Query{{SQL: "SELECT 1"}}); err == nil {
		t.Fatal("want an error from the broken connection")
	}
	res, err := c.Run(ctx, []pgwire.Query{{SQL: "SELECT 2"}})
	if err != nil || res[0].Rows[0][0].Text != "2" {
		t.Fatalf("after reconnect: %+v, %v", res, err)
	}
}

func TestConnectErrorHidesThePassword(t *testing.T) {
	c := pgwire.New("postgres://dpc:s3cr3t-pw@127.0.0.1:1/db?sslmode=disable", time.Second, "x")
	_, err := c.Run(context.Background(), []pgwire.Query{{SQL: "SELECT 1"}})
	if err == nil || strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Fatalf("error %v", err)
	}
	c2 := pgwire.New("postgres://dpc:s3cr3t-pw@[bad", time.Second, "x")
	_, err = c2.Run(context.Background(), []pgwire.Query{{SQL: "SELECT 1"}})
	if err == nil || strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Fatalf("error %v", err)
	}
}

func TestValues(t *testing.T) {
	ts, err := pgwire.Value{Text: "2026-11-27 03:04:05.5+00"}.Time()
	if err != nil || ts != time.Date(2026, 11, 27, 3, 4, 5, 5e8, time.UTC) {
		t.Errorf("Time: %v %v", ts, err)
	}
	ts, err = pgwire.Value{Text: "2026-11-27 12:04:05+09"}.Time()
	if err != nil || ts != time.Date(2026, 11, 27, 3, 4, 5, 0, time.UTC) {
		t.Errorf("Time with zone: %v %v", ts, err)
	}
	if _, err := (pgwire.Value{Text: "NaN"}).Float(); err == nil {
		t.Error("NaN must not be a number")
	}
	if i, err := (pgwire.Value{Text: "12.000"}).Int(); err != nil || i != 12 {
		t.Errorf("Int(12.000) = %d, %v", i, err)
	}
	if _, err := (pgwire.Value{Null: true}).Int(); !pgwire.IsNull(err) {
		t.Errorf("NULL: %v", err)
	}
}
