// Package awstest is a local stand-in for the AWS services dpcops calls:
// CloudWatch (GetMetricData, PutMetricData, over the rpcv2-cbor protocol
// the SDK speaks), Step Functions (awsJson1.0), Redshift Serverless, the
// Redshift Data API (which runs statements on a real PostgreSQL) and
// CloudWatch Logs (awsJson1.1). It answers from state a test sets,
// records every call, and can answer with throttling or server errors to
// test retries.
package awstest

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// Point is one value of a series.
type Point struct {
	Time  time.Time
	Value float64
}

// Execution is a Step Functions execution the server reports.
type Execution struct {
	ARN, Name, Status string
	Start             time.Time
	Stop              *time.Time
}

// Call records one request.
type Call struct {
	Operation string
	// Queries holds the series keys of a GetMetricData call.
	Queries []string
	// Body is the decoded request (cbor.Value or JSON map).
	Body any
}

// Datum is one PutMetricData value.
type Datum struct {
	Namespace, MetricName, Unit string
	Dimensions                  map[string]string
	Value                       float64
}

// Server is the fake. Its zero value is not usable; call New.
type Server struct {
	*httptest.Server

	mu         sync.Mutex
	series     map[string][]Point
	executions map[string][]Execution
	calls      []Call
	put        []Datum
	// failures are answers to give instead of the real one, per operation,
	// in order.
	failures map[string][]Failure
	history  map[string][]map[string]any
	started  []Started
	groups   map[string]*WorkgroupState
	updates  []Update
	data     dataAPI
	logs     map[string]*logGroup

	// DataAPIPageRows is how many records a GetStatementResult page holds
	// (default 1000). Set it low, before the first call, to make clients
	// page.
	DataAPIPageRows int
}

// Started records a StartExecution call.
type Started struct {
	StateMachineARN, Name, Input string
}

// SetHistory sets the events GetExecutionHistory answers for an execution,
// newest first, in the API's JSON shape (type, id, and the details).
func (s *Server) SetHistory(executionARN string, events ...map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.history[executionARN] = events
}

// StartedExecutions returns the StartExecution calls so far.
func (s *Server) StartedExecutions() []Started {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Started(nil), s.started...)
}

func str2(v any) string {
	s, _ := v.(string)
	return s
}

// Failure is an error answer: an HTTP status and an error type such as
// Throttling or InternalFailure. The zero Failure lets its call through,
// so that FailNext can fail a later call of a sequence.
type Failure struct {
	Status int
	Type   string
}

// New starts the fake.
func New() *Server {
	s := &Server{series: map[string][]Point{}, executions: map[string][]Execution{}, failures: map[string][]Failure{}, history: map[string][]map[string]any{}, groups: map[string]*WorkgroupState{}}
	s.data.ctx, s.data.stop = context.WithCancel(context.Background())
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// SeriesKey names the series of a metric: namespace, metric name, sorted
// dimensions and statistic.
func SeriesKey(namespace, metric string, dims map[string]string, stat string) string {
	names := make([]string, 0, len(dims))
	for n := range dims {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := []string{namespace, metric}
	for _, n := range names {
		parts = append(parts, n+"="+dims[n])
	}
	return strings.Join(append(parts, stat), "|")
}

// ExpressionKey names the series an expression query answers with.
func ExpressionKey(expr string) string { return "expr:" + expr }

// SetSeries sets the points answered for a series key.
func (s *Server) SetSeries(key string, pts ...Point) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.series[key] = pts
}

// SetExecutions sets the executions of a state machine, newest first.
func (s *Server) SetExecutions(arn string, xs ...Execution) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.executions[arn] = xs
}

// FailNext makes the next calls of op answer with the failures, in order.
func (s *Server) FailNext(op string, fs ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[op] = append(s.failures[op], fs...)
}

// Calls returns the calls so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Put returns the data published so far.
func (s *Server) Put() []Datum {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Datum(nil), s.put...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	var in io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		// The SDK compresses large PutMetricData requests.
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		in = zr
	}
	body, err := io.ReadAll(in)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		if op, ok := strings.CutPrefix(target, "RedshiftServerless."); ok {
			s.serveWorkgroup(w, op, body)
			return
		}
		if op, ok := strings.CutPrefix(target, "RedshiftData."); ok {
			s.serveDataAPI(w, op, body)
			return
		}
		if op, ok := strings.CutPrefix(target, "Logs_20140328."); ok {
			s.serveLogs(w, op, body)
			return
		}
		s.serveJSON(w, strings.TrimPrefix(target, "AWSStepFunctions."), body)
		return
	}
	const prefix = "/service/GraniteServiceVersion20100801/operation/"
	if !strings.HasPrefix(r.URL.Path, prefix) || r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		http.Error(w, "unknown request "+r.URL.Path, http.StatusNotFound)
		return
	}
	s.serveCBOR(w, strings.TrimPrefix(r.URL.Path, prefix), body)
}

// failure pops the next injected failure of op.
func (s *Server) failure(op string) (Failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fs := s.failures[op]
	if len(fs) == 0 {
		return Failure{}, false
	}
	s.failures[op] = fs[1:]
	return fs[0], fs[0].Status != 0
}

func (s *Server) serveCBOR(w http.ResponseWriter, op string, body []byte) {
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	req, err := cbor.Decode(body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		w.Write(cbor.Encode(cbor.Map{"__type": cbor.String("SerializationException"), "message": cbor.String(err.Error())}))
		return
	}
	if f, ok := s.failure(op); ok {
		w.WriteHeader(f.Status)
		w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(f.Type), "message": cbor.String("injected " + f.Type)}))
		return
	}
	m, _ := req.(cbor.Map)
	var resp cbor.Map
	switch op {
	case "GetMetricData":
		resp, err = s.getMetricData(m)
	case "PutMetricData":
		err = s.putMetricData(m)
		resp = cbor.Map{}
	default:
		err = fmt.Errorf("operation %s is not faked", op)
	}
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		w.Write(cbor.Encode(cbor.Map{"__type": cbor.String("InvalidParameterValue"), "message": cbor.String(err.Error())}))
		return
	}
	w.Write(cbor.Encode(resp))
}

func str(v cbor.Value) string {
	s, _ := v.(cbor.String)
	return string(s)
}

func (s *Server) getMetricData(m cbor.Map) (cbor.Map, error) {
	start, err := cbor.AsTime(m["StartTime"])
	if err != nil {
		return nil, fmt.Errorf("StartTime: %v", err)
	}
	end, err := cbor.AsTime(m["EndTime"])
	if err != nil {
		return nil, fmt.Errorf("EndTime: %v", err)
	}
	queries, _ := m["MetricDataQueries"].(cbor.List)
	call := Call{Operation: "GetMetricData", Body: m}
	var results cbor.List
	for _, qv := range queries {
		q, _ := qv.(cbor.Map)
		key := ExpressionKey(str(q["Expression"]))
		if ms, ok := q["MetricStat"].(cbor.Map); ok {
			metric, _ := ms["Metric"].(cbor.Map)
			dims := map[string]string{}
			dl, _ := metric["Dimensions"].(cbor.List)
			for _, dv := range dl {
				d, _ := dv.(cbor.Map)
				dims[str(d["Name"])] = str(d["Value"])
			}
			key = SeriesKey(str(metric["Namespace"]), str(metric["MetricName"]), dims, str(ms["Stat"]))
		}
		call.Queries = append(call.Queries, key)
		var ts, vals cbor.List
		s.mu.Lock()
		for _, p := range s.series[key] {
			if !p.Time.Before(start) && p.Time.Before(end) {
				ts = append(ts, cbor.Tag{ID: 1, Value: cbor.Float64(float64(p.Time.UnixNano()) / 1e9)})
				vals = append(vals, cbor.Float64(p.Value))
			}
		}
		s.mu.Unlock()
		results = append(results, cbor.Map{
			"Id": q["Id"], "Label": cbor.String(key), "StatusCode": cbor.String("Complete"),
			"Timestamps": ts, "Values": vals,
		})
	}
	s.record(call)
	return cbor.Map{"MetricDataResults": results}, nil
}

func (s *Server) putMetricData(m cbor.Map) error {
	ns := str(m["Namespace"])
	data, _ := m["MetricData"].(cbor.List)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, dv := range data {
		d, _ := dv.(cbor.Map)
		dims := map[string]string{}
		dl, _ := d["Dimensions"].(cbor.List)
		for _, x := range dl {
			dm, _ := x.(cbor.Map)
			dims[str(dm["Name"])] = str(dm["Value"])
		}
		v, err := cbor.AsFloat64(d["Value"])
		if err != nil {
			return fmt.Errorf("datum value: %v", err)
		}
		s.put = append(s.put, Datum{Namespace: ns, MetricName: str(d["MetricName"]), Unit: str(d["Unit"]), Dimensions: dims, Value: v})
	}
	s.calls = append(s.calls, Call{Operation: "PutMetricData", Body: m})
	return nil
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

func (s *Server) serveJSON(w http.ResponseWriter, op string, body []byte) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": "SerializationException", "message": err.Error()})
		return
	}
	if f, ok := s.failure(op); ok {
		w.WriteHeader(f.Status)
		json.NewEncoder(w).Encode(map[string]string{"__type": f.Type, "message": "injected " + f.Type})
		return
	}
	s.record(Call{Operation: op, Body: req})
	switch op {
	case "ListExecutions":
	case "GetExecutionHistory":
		s.mu.Lock()
		events := s.history[str2(req["executionArn"])]
		s.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"events": events})
		return
	case "StartExecution":
		arn := str2(req["stateMachineArn"])
		name := str2(req["name"])
		s.mu.Lock()
		s.started = append(s.started, Started{StateMachineARN: arn, Name: name, Input: str2(req["input"])})
		s.executions[arn] = append([]Execution{{ARN: arn + ":" + name, Name: name, Status: "RUNNING", Start: time.Now().UTC()}}, s.executions[arn]...)
		s.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"executionArn": arn + ":" + name, "startDate": float64(time.Now().Unix())})
		return
	default:
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": "UnknownOperationException", "message": op})
		return
	}
	arn, _ := req["stateMachineArn"].(string)
	status, _ := req["statusFilter"].(string)
	limit := 100
	if n, ok := req["maxResults"].(float64); ok && n > 0 {
		limit = int(n)
	}
	s.mu.Lock()
	var out []map[string]any
	for _, x := range s.executions[arn] {
		if status != "" && x.Status != status {
			continue
		}
		e := map[string]any{"executionArn": x.ARN, "stateMachineArn": arn, "name": x.Name, "status": x.Status,
			"startDate": float64(x.Start.UnixNano()) / 1e9}
		if x.Stop != nil {
			e["stopDate"] = float64(x.Stop.UnixNano()) / 1e9
		}
		out = append(out, e)
		if len(out) == limit {
			break
		}
	}
	s.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{"executions": out})
}
