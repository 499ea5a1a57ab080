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
	"github.com/dpc-learning/dpcops/internal/notify"
	"github.com/dpc-learning/dpcops/internal/store"
)

// Where the last reads of error events ended: the time of the newest
// failed query and of the newest rejected load row seen.
const (
	stateFailedEvents   = "errors.failed_since"
	stateRejectedEvents = "errors.rejected_since"
)

// firstErrorsLookback is how far back the first read of error rows goes,
// so that a dashboard just started shows the last hour's errors. Without
// a store (the publisher) a first read is a cold start, which goes back
// two collection intervals: the time since the last invocation, and no
// hour of events published again.
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
	if cy.serverless() {
		w.FailedAfter = cy.cursor(stateFailedEvents)
	}
	for _, m := range cy.s.Metrics {
		// Rejected rows come from where the load_errors metric counts
		// them: a spec that counts none may have no such table.
		if m.Source == "load_errors" {
			w.RejectedAfter = cy.cursor(stateRejectedEvents)
			break
		}
	}
}

// cursor is where a source's next read starts: after the last row read,
// which the collector remembers; after a restart, the time kept in the
// store (its rows of that very millisecond are read again); the first
// time, an hour back, or two intervals without a store (a cold publisher).
func (cy *cycle) cursor(key string) backend.EventCursor {
	c := cy.startCursor(key)
	cy.readFrom[key] = c
	return c
}

func (cy *cycle) startCursor(key string) backend.EventCursor {
	if c, ok := cy.c.cursors[key]; ok {
		return c
	}
	if st, ok := cy.state(key); ok {
		return backend.EventCursor{Time: st.Time}
	}
	if cy.c.o.Store == nil {
		return backend.EventCursor{Time: cy.now.Add(-2 * cy.s.Collect.Interval.D())}
	}
	return backend.EventCursor{Time: cy.now.Add(-firstErrorsLookback)}
}

// readErrors turns the snapshot's failed queries and rejected rows, each
// after its source's cursor, into events and log lines, and moves each
// cursor to its last row, only when its part was read.
func (cy *cycle) readErrors() {
	if cy.snap == nil {
		return
	}
	add := func(e ErrorEvent) {
		e.Platform, e.Workgroup = cy.s.Platform, cy.s.Warehouse.Workgroup
		cy.errors = append(cy.errors, e)
		cy.logs = append(cy.logs, e.logLine())
	}
	if qs := cy.snap.FailedEvents; cy.snap.Errors["failed_events"] == nil && len(qs) > 0 {
		for _, q := range qs {
			add(ErrorEvent{Time: q.Time.UTC(), Source: ErrorSourceQuery, Error: q.Error, QueryID: q.ID, User: q.User, Query: MaskSecrets(q.Text)})
		}
		last := qs[len(qs)-1]
		cy.moveCursor(stateFailedEvents, backend.EventCursor{Time: last.Time, ID: last.ID})
	}
	if rs := cy.snap.RejectedEvents; cy.snap.Errors["rejected_events"] == nil && len(rs) > 0 {
		for _, r := range rs {
			add(ErrorEvent{Time: r.Time.UTC(), Source: ErrorSourceCopy, Error: r.Message, File: r.File, Line: r.Line, Column: r.Column, Code: r.Code})
		}
		last := rs[len(rs)-1]
		cy.moveCursor(stateRejectedEvents, backend.EventCursor{Time: last.Time, File: last.File, Line: last.Line})
	}
}

// rewindCursors puts each source's cursor back where this cycle's read
// started, so that the next cycle reads its events again.
func (cy *cycle) rewindCursors() {
	for key, c := range cy.readFrom {
		cy.moveCursor(key, c)
	}
}

func (cy *cycle) moveCursor(key string, c backend.EventCursor) {
	cy.cursors[key] = c
	cy.setState(key, float64(c.Time.Unix()), c.Time)
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
// CREATE/ALTER USER … PASSWORD '…', COPY … CREDENTIALS [AS] '…' and the
// ACCESS_KEY_ID / SECRET_ACCESS_KEY / SESSION_TOKEN of COPY and UNLOAD. A
// literal runs to its closing quote (” and \' inside it), or to the end
// of a text cut short (query histories keep the first characters only).
var secretLiteralRE = regexp.MustCompile(`(?i)\b(password|credentials|access_key_id|secret_access_key|session_token)(\s+(?:as\s+)?)'(?:[^'\\]|''|\\.)*(?:'|\\?$)`)

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

// PublishErrors writes events as JSON to CloudWatch Logs. The caller
// decides whether to publish (collect.publish); events too old for
// CloudWatch Logs are logged as left out.
func PublishErrors(ctx context.Context, w ErrorWriter, events []ErrorEvent, log *slog.Logger) error {
	out := make([]aws.LogEvent, len(events))
	for i, e := range events {
		// Cut the long fields rather than the JSON, which must stay JSON
		// for Logs Insights.
		e.Error, e.Query = notify.Truncate(e.Error, aws.MaxEventBytes/4), notify.Truncate(e.Query, aws.MaxEventBytes/2)
		b, _ := json.Marshal(e) // strings and numbers only: cannot fail
		out[i] = aws.LogEvent{Time: e.Time, Message: string(b)}
	}
	dropped, err := w.Put(ctx, out)
	if dropped > 0 {
		log.Warn("error events CloudWatch Logs does not take (older than 14 days or too far ahead) were left out", "events", dropped)
	}
	return err
}
