package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// stateErrors is where the last read of failed queries and rejected load
// rows ended: the time of the newest row seen.
const stateErrors = "errors.since"

// firstErrorsLookback is how far back the first read of error rows goes,
// so that a dashboard just started shows the last hour's errors.
const firstErrorsLookback = time.Hour

// Sources of error events.
const (
	ErrorSourceQuery = "query"
	ErrorSourceCopy  = "copy"
)

// ErrorEvent is a failed query (SYS_QUERY_HISTORY) or a rejected load row
// (SYS_LOAD_ERROR_DETAIL, ops.load_errors on PostgreSQL). Each becomes a
// line of the dashboard's Latest errors and, when collect.publish is on,
// a JSON event in the CloudWatch Logs group ErrorLogGroup names.
type ErrorEvent struct {
	Time      time.Time `json:"time"`
	Source    string    `json:"source"`
	Platform  string    `json:"platform"`
	Workgroup string    `json:"workgroup,omitempty"`
	// Error is the server's message.
	Error string `json:"error"`
	// A failed query's id, user and text (secret literals masked).
	QueryID int64  `json:"query_id,omitempty"`
	User    string `json:"user,omitempty"`
	Query   string `json:"query,omitempty"`
	// A rejected row's file, line, column and load error code.
	File   string `json:"file,omitempty"`
	Line   int64  `json:"line,omitempty"`
	Column string `json:"column,omitempty"`
	Code   int64  `json:"error_code,omitempty"`
}

// ErrorLogGroup is the CloudWatch Logs group of a platform's error events;
// the Terraform module creates it.
func ErrorLogGroup(platform string) string { return "/dpcops/" + platform + "/errors" }

// wantErrors adds the rows of error events to a cycle's SQL: failed
// queries on Redshift (PostgreSQL's come from its jsonlog) and rejected
// load rows on both. They ride along with SQL sent anyway and never cause
// a round trip of their own.
func (cy *cycle) wantErrors(w *backend.Want) {
	for _, m := range cy.s.Metrics {
		// Rejected rows come from where the load_errors metric counts
		// them: a spec that counts none may have no such table.
		w.LoadErrorRows = w.LoadErrorRows || m.Source == "load_errors"
	}
	w.FailedQueries = cy.serverless()
	if !w.LoadErrorRows && !w.FailedQueries {
		return
	}
	w.RecentSince = cy.now.Add(-firstErrorsLookback)
	if st, ok := cy.state(stateErrors); ok {
		w.RecentSince = st.Time
	}
}

// readErrors turns the snapshot's failed queries and rejected rows into
// events and log lines, and moves the watermark to the newest row. The
// SQL reads rows after the watermark, so none is reported twice.
func (cy *cycle) readErrors(since time.Time) {
	if cy.snap == nil || (cy.snap.ErrorRows == nil && cy.snap.Failed == nil) {
		return
	}
	newest := since
	add := func(e ErrorEvent) {
		e.Platform, e.Workgroup = cy.s.Platform, cy.s.Warehouse.Workgroup
		cy.errors = append(cy.errors, e)
		cy.logs = append(cy.logs, e.logLine())
		if e.Time.After(newest) {
			newest = e.Time
		}
	}
	for _, q := range cy.snap.Failed {
		add(ErrorEvent{Time: q.Time.UTC(), Source: ErrorSourceQuery, Error: q.Error, QueryID: q.ID, User: q.User, Query: MaskSecrets(q.Text)})
	}
	for _, r := range cy.snap.ErrorRows {
		add(ErrorEvent{Time: r.Time.UTC(), Source: ErrorSourceCopy, Error: r.Message, File: r.File, Line: r.Line, Column: r.Column, Code: r.Code})
	}
	cy.setState(stateErrors, float64(newest.Unix()), newest)
}

// logLine is the event as a line of Latest errors, its details in the
// key=value form the runbook reads (statement last: it may hold spaces).
func (e ErrorEvent) logLine() store.LogLine {
	var detail []string
	kv := func(k, v string) {
		if v != "" && v != "0" {
			detail = append(detail, k+"="+v)
		}
	}
	kv("user", e.User)
	kv("query_id", fmt.Sprint(e.QueryID))
	kv("file", e.File)
	kv("line", fmt.Sprint(e.Line))
	kv("column", e.Column)
	kv("code", fmt.Sprint(e.Code))
	kv("statement", e.Query)
	return store.LogLine{Time: e.Time, Source: e.Source, Severity: "ERROR", Message: e.Error, Detail: strings.Join(detail, " ")}
}

// secretLiteralRE finds the literals of SQL clauses that carry secrets:
// CREATE/ALTER USER … PASSWORD '…', COPY … CREDENTIALS '…' and the
// ACCESS_KEY_ID / SECRET_ACCESS_KEY / SESSION_TOKEN of COPY and UNLOAD.
var secretLiteralRE = regexp.MustCompile(`(?i)\b(password|credentials|access_key_id|secret_access_key|session_token)(\s+)'(?:[^']|'')*'`)

// MaskSecrets replaces the secret literals of a query text by '***': a
// failed query's text goes to dashboards and log groups that more people
// read than the warehouse's own history.
func MaskSecrets(sql string) string {
	return secretLiteralRE.ReplaceAllString(sql, "$1$2'***'")
}

// ErrorWriter writes error events to CloudWatch Logs; *aws.Logs is one.
type ErrorWriter interface {
	Put(ctx context.Context, events []aws.LogEvent) (dropped int, err error)
}

// PublishErrors writes events as JSON to CloudWatch Logs when
// collect.publish is on. A failure is logged, as Publish's are.
func PublishErrors(ctx context.Context, w ErrorWriter, s *spec.Spec, events []ErrorEvent, log *slog.Logger) {
	if !s.Collect.Publish || len(events) == 0 {
		return
	}
	out := make([]aws.LogEvent, len(events))
	for i, e := range events {
		b, _ := json.Marshal(e) // strings and numbers only: cannot fail
		out[i] = aws.LogEvent{Time: e.Time, Message: string(b)}
	}
	dropped, err := w.Put(ctx, out)
	if err != nil {
		log.Warn("publish of error events to CloudWatch Logs failed", "events", len(events), "err", err)
	}
	if dropped > 0 {
		log.Warn("error events too old for CloudWatch Logs were left out", "events", dropped)
	}
}
