package awstest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The Data API's statement states. A statement is STARTED from the moment
// it is accepted until it ends, so a client sees at once that it must poll.
const (
	statusStarted  = "STARTED"
	statusFinished = "FINISHED"
	statusFailed   = "FAILED"
	statusAborted  = "ABORTED"
)

// defaultPageRows is the page size when DataAPIPageRows is not set. AWS
// pages by 100 MB; any size serves a fake that is not about memory.
const defaultPageRows = 1000

// Statement is an ExecuteStatement call the fake accepted.
type Statement struct {
	ID, Workgroup, Database string
	// SQL is the text as submitted, with :name parameters.
	SQL        string
	Parameters []SQLParameter
	// Bound is the SQL as run on PostgreSQL, with $n parameters.
	Bound string
	// Status is the statement's status when Statements was called, and
	// Error the message a FAILED one carries.
	Status, Error string
}

// dataAPI is the Data API's part of the server, guarded by Server.mu.
type dataAPI struct {
	// targets maps a workgroup to its databases' DSNs.
	targets map[string]map[string]string
	stmts   map[string]*statement
	order   []*statement
	// hold, while not nil, keeps new statements from running.
	hold    chan struct{}
	queries int64
	// ctx ends with the server, which aborts what still runs.
	ctx     context.Context
	stop    context.CancelFunc
	running sync.WaitGroup
}

// statement is the fake's state of one statement.
type statement struct {
	Statement
	created, updated time.Time
	duration         time.Duration
	pid              uint32
	queryID          int64
	res              result
	cancel           context.CancelFunc
}

// SetDataAPI makes statements for database on workgroup run on the
// PostgreSQL server at dsn.
func (s *Server) SetDataAPI(workgroup, database, dsn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data.targets == nil {
		s.data.targets = map[string]map[string]string{}
	}
	if s.data.targets[workgroup] == nil {
		s.data.targets[workgroup] = map[string]string{}
	}
	s.data.targets[workgroup][database] = dsn
}

// HoldStatements keeps the statements submitted from now on STARTED, not
// running, until release is called (once is enough; more are no-ops), so a
// test can watch a client poll or cancel.
func (s *Server) HoldStatements() (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data.hold == nil {
		s.data.hold = make(chan struct{})
	}
	hold := s.data.hold
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			close(hold)
			if s.data.hold == hold {
				s.data.hold = nil
			}
		})
	}
}

// Statements returns the accepted statements in the order they came.
func (s *Server) Statements() []Statement {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Statement, len(s.data.order))
	for i, st := range s.data.order {
		out[i] = st.Statement
		out[i].Parameters = append([]SQLParameter(nil), st.Parameters...)
	}
	return out
}

// Close aborts the statements still held or running, waits until they let
// go of their PostgreSQL connections (so a test's database can be
// dropped), and shuts the server down.
func (s *Server) Close() {
	s.data.stop()
	s.data.running.Wait()
	s.Server.Close()
}

// dataAPIInput holds the members of every Data API request the fake
// answers, named as the SDK serializes them.
type dataAPIInput struct {
	Sql               *string `json:"Sql"`
	WorkgroupName     *string `json:"WorkgroupName"`
	Database          *string `json:"Database"`
	ClusterIdentifier *string `json:"ClusterIdentifier"`
	SecretArn         *string `json:"SecretArn"`
	DbUser            *string `json:"DbUser"`
	SessionId         *string `json:"SessionId"`
	SessionKeepAlive  *int    `json:"SessionKeepAliveSeconds"`
	ResultFormat      string  `json:"ResultFormat"`
	Parameters        []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"Parameters"`
	Id        string `json:"Id"`
	NextToken string `json:"NextToken"`
}

// serveDataAPI answers the Redshift Data API (awsJson1.1).
func (s *Server) serveDataAPI(w http.ResponseWriter, op string, body []byte) {
	r := newReply11(w)
	var in dataAPIInput
	m, ok := decode11(r, body, &in)
	if !ok {
		return
	}
	if f, ok := s.failure(op); ok {
		r.fail(f.Status, f.Type, "injected "+f.Type)
		return
	}
	s.record(Call{Operation: op, Body: m})
	switch op {
	case "ExecuteStatement":
		s.executeStatement(r, in)
	case "DescribeStatement":
		s.describeStatement(r, in.Id)
	case "GetStatementResult":
		s.getStatementResult(r, in.Id, in.NextToken)
	case "CancelStatement":
		s.cancelStatement(r, in.Id)
	default:
		r.fail(http.StatusBadRequest, "UnknownOperationException", op)
	}
}

func (s *Server) executeStatement(r reply11, in dataAPIInput) {
	invalid := func(msg string) { r.fail(http.StatusBadRequest, "ValidationException", msg) }
	switch {
	case in.Sql == nil || *in.Sql == "":
		invalid("Sql is required")
		return
	case in.ClusterIdentifier != nil || in.SecretArn != nil || in.DbUser != nil:
		// AWS would take these for a cluster or Secrets Manager; dpcops
		// uses its IAM identity on a serverless workgroup only, so the
		// fake refuses what dpcops must never send.
		invalid("awstest: only IAM authentication to a serverless workgroup is faked (no ClusterIdentifier, SecretArn or DbUser)")
		return
	case in.SessionId != nil || in.SessionKeepAlive != nil:
		invalid("awstest: Data API sessions are not faked")
		return
	case in.ResultFormat != "" && in.ResultFormat != "JSON":
		invalid("awstest: only the JSON result format is faked")
		return
	case in.WorkgroupName == nil || *in.WorkgroupName == "":
		invalid("Either ClusterIdentifier, WorkgroupName or SessionId must be provided.")
		return
	case in.Database == nil || *in.Database == "":
		invalid("Database is required when authenticating with temporary credentials.")
		return
	}
	st := &statement{Statement: Statement{Workgroup: *in.WorkgroupName, Database: *in.Database, SQL: *in.Sql}, duration: -1}
	for _, p := range in.Parameters {
		st.Parameters = append(st.Parameters, SQLParameter{Name: p.Name, Value: p.Value})
	}
	bound, args, err := bindParams(st.SQL, st.Parameters)
	if err != nil {
		invalid(err.Error())
		return
	}
	st.Bound = bound
	s.mu.Lock()
	dbs, ok := s.data.targets[st.Workgroup]
	if !ok {
		s.mu.Unlock()
		// What AWS answers for a workgroup that does not exist.
		invalid("Redshift endpoint doesn't exist in this region.")
		return
	}
	dsn, known := dbs[st.Database]
	st.ID = newUUID()
	st.Status = statusStarted
	st.created = time.Now().UTC()
	st.updated = st.created
	s.data.queries++
	st.queryID = s.data.queries
	ctx, cancel := context.WithCancel(s.data.ctx)
	st.cancel = cancel
	if s.data.stmts == nil {
		s.data.stmts = map[string]*statement{}
	}
	s.data.stmts[st.ID] = st
	s.data.order = append(s.data.order, st)
	hold := s.data.hold
	s.data.running.Add(1)
	s.mu.Unlock()
	if known {
		go s.runStatement(ctx, st, hold, dsn, args)
	} else {
		// The Data API accepts the statement and only its connection
		// fails: a missing database is a FAILED statement, as on AWS.
		go func() {
			defer s.data.running.Done()
			defer cancel()
			s.endStatement(st, result{}, fmt.Errorf("FATAL: database %q does not exist", st.Database))
		}()
	}
	r.ok(map[string]any{"Id": st.ID, "CreatedAt": epoch(st.created), "Database": st.Database, "WorkgroupName": st.Workgroup})
}

// runStatement waits while statements are held, then runs st.
func (s *Server) runStatement(ctx context.Context, st *statement, hold <-chan struct{}, dsn string, args [][]byte) {
	defer s.data.running.Done()
	defer st.cancel()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			s.endStatement(st, result{}, ctx.Err())
			return
		}
	}
	res, err := runOnPostgres(ctx, dsn, st.Bound, args, func(pid uint32) {
		s.mu.Lock()
		defer s.mu.Unlock()
		st.pid = pid
	})
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	s.endStatement(st, res, err)
}

// endStatement records how st ended, unless it was aborted meanwhile.
func (s *Server) endStatement(st *statement, res result, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.Status != statusStarted {
		return
	}
	now := time.Now().UTC()
	st.updated = now
	st.duration = now.Sub(st.created)
	switch {
	case err == context.Canceled:
		st.Status = statusAborted
	case err != nil:
		st.Status, st.Error = statusFailed, err.Error()
	default:
		st.Status, st.res = statusFinished, res
	}
}

func (s *Server) describeStatement(r reply11, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.data.stmts[id]
	if st == nil {
		notFound(r, id)
		return
	}
	out := map[string]any{
		"Id": st.ID, "Status": st.Status, "QueryString": st.SQL,
		"CreatedAt": epoch(st.created), "UpdatedAt": epoch(st.updated),
		"Database": st.Database, "WorkgroupName": st.Workgroup, "ResultFormat": "JSON",
		"Duration": int64(st.duration), "HasResultSet": st.res.hasResult,
		"ResultRows": int64(-1), "ResultSize": int64(-1),
		"RedshiftPid": st.pid, "RedshiftQueryId": st.queryID,
	}
	if st.Status == statusFinished {
		out["ResultRows"], out["ResultSize"] = st.res.rows, st.res.size
	}
	if st.Error != "" {
		out["Error"] = st.Error
	}
	if len(st.Parameters) > 0 {
		ps := make([]map[string]string, len(st.Parameters))
		for i, p := range st.Parameters {
			ps[i] = map[string]string{"name": p.Name, "value": p.Value}
		}
		out["QueryParameters"] = ps
	}
	r.ok(out)
}

func (s *Server) getStatementResult(r reply11, id, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.data.stmts[id]
	switch {
	case st == nil:
		notFound(r, id)
		return
	case st.Status != statusFinished:
		r.fail(http.StatusBadRequest, "ValidationException", "Query has not finished (status "+st.Status+"). Please check query status with DescribeStatement.")
		return
	case !st.res.hasResult:
		r.fail(http.StatusBadRequest, "ValidationException", "Query does not have result. Please check query status with DescribeStatement.")
		return
	}
	from := 0
	if token != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(token, st.ID+"/"))
		if err != nil || !strings.HasPrefix(token, st.ID+"/") || n < 0 || n > len(st.res.records) {
			r.fail(http.StatusBadRequest, "ValidationException", "Invalid NextToken")
			return
		}
		from = n
	}
	page := s.DataAPIPageRows
	if page <= 0 {
		page = defaultPageRows
	}
	to := min(from+page, len(st.res.records))
	out := map[string]any{
		"ColumnMetadata": st.res.cols,
		"Records":        st.res.records[from:to],
		"TotalNumRows":   len(st.res.records),
	}
	if to < len(st.res.records) {
		out["NextToken"] = st.ID + "/" + strconv.Itoa(to)
	}
	r.ok(out)
}

func (s *Server) cancelStatement(r reply11, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.data.stmts[id]
	if st == nil {
		notFound(r, id)
		return
	}
	if st.Status != statusStarted {
		r.fail(http.StatusBadRequest, "ValidationException", "Could not cancel a query that is already in "+st.Status+" state.")
		return
	}
	// ABORTED at once, as the caller is told; the goroutine then finds
	// the statement ended and cancels the PostgreSQL query via ctx.
	st.Status = statusAborted
	st.updated = time.Now().UTC()
	st.duration = st.updated.Sub(st.created)
	st.cancel()
	r.ok(map[string]any{"Status": true})
}

func notFound(r reply11, id string) {
	r.w.WriteHeader(http.StatusBadRequest)
	r.ok(map[string]string{"__type": "ResourceNotFoundException", "message": "Query does not exist.", "ResourceId": id})
}

// epoch is a timestamp as awsJson writes one: seconds since 1970.
func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// newUUID makes a statement Id the shape AWS gives (a version 4 UUID).
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
