package backend

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// Want says which parts of a snapshot one collection cycle needs. The
// dialect sends the SQL of every wanted part in one round trip.
type Want struct {
	// Database: transaction counters, size, connections.
	Database bool
	// Activity: running queries and active sessions.
	Activity bool
	// Tables: per-table health.
	Tables bool
	// Queries: succeeded and failed counts since QueriesSince (Redshift's
	// SYS_QUERY_HISTORY; PostgreSQL uses Database's counters instead).
	Queries      bool
	QueriesSince time.Time
	// LoadErrors: load error rows with start_time after LoadErrorsSince.
	LoadErrors      bool
	LoadErrorsSince time.Time
	// Pipeline: the ledger (ops.pipeline_runs) of the named pipeline.
	Pipeline     bool
	PipelineName string
	// MartQuery, when set, is run for the marts' last update time.
	MartQuery string
	// Usage: serverless usage since UsageSince (SYS_SERVERLESS_USAGE).
	Usage      bool
	UsageSince time.Time
	// RPUMinutes: the RPUs in use in each minute since RPUSince
	// (SYS_SERVERLESS_USAGE's per-minute rows).
	RPUMinutes bool
	RPUSince   time.Time
	// Custom queries of source: sql metrics, by metric name.
	Custom map[string]string

	// For triage: the runs, rejected load rows and failed queries since
	// RecentSince (at most a few hundred of each, newest first).
	PipelineRuns  bool
	LoadErrorRows bool
	FailedQueries bool
	RecentSince   time.Time
	// Columns: every user table's columns (for the offload plan).
	Columns bool

	// Error events: the failed queries (Redshift) and the rejected load
	// rows after these cursors, oldest first, at most EventsLimit of each;
	// a cursor with a zero time reads none.
	FailedAfter, RejectedAfter EventCursor
}

// EventCursor is where a read of error events goes on from: the last row
// read, by its time and then by query id (failed queries) or by file and
// line (rejected rows), the order the reads sort in.
type EventCursor struct {
	Time time.Time
	ID   int64
	File string
	Line int64
}

// Args are the cursor as SQL parameters: the time in UTC with
// microseconds, then the id, or the file and the line. An empty file is
// sent as a space (the Data API refuses an empty value), which sorts
// before every name but the empty one, and only a row at that very
// microsecond without a file name could fall between.
func (c EventCursor) Args(rejected bool) []string {
	at := c.Time.UTC().Format("2006-01-02 15:04:05.000000")
	if !rejected {
		return []string{at, strconv.FormatInt(c.ID, 10)}
	}
	file := c.File
	if file == "" {
		file = " "
	}
	return []string{at, file, strconv.FormatInt(c.Line, 10)}
}

// EventsLimit bounds the failed queries and rejected rows one snapshot
// reads as error events; the next read goes on from the last one.
const EventsLimit = 500

// Snapshot is what one collection cycle read. A part that was not wanted
// is nil; a part whose query failed is nil and its error is in Errors.
type Snapshot struct {
	// At is when the snapshot was taken, by dpcops' clock.
	At         time.Time
	Database   *Database
	Activity   *Activity
	Tables     []Table
	Queries    *QueryCounts
	LoadErrors *LoadErrors
	Pipeline   *Pipeline
	// MartUpdated is the result of the mart query.
	MartUpdated *time.Time
	Usage       *Usage
	RPUMinutes  []RPUMinute
	Custom      map[string][]CustomRow
	Runs        []PipelineRun
	ErrorRows   []LoadErrorRow
	Failed      []FailedQuery
	Columns     []Column
	// FailedEvents and RejectedEvents answer FailedAfter and
	// RejectedAfter, oldest first.
	FailedEvents   []FailedQuery
	RejectedEvents []LoadErrorRow
	// Errors holds the error of each part that failed, by part name
	// (database, activity, tables, queries, load_errors, pipeline, mart,
	// usage, rpu_minutes, failed_events, rejected_events, custom:NAME).
	Errors map[string]error
	// Statements is the number of SQL statements sent.
	Statements int
}

// Database holds database-wide figures.
type Database struct {
	// Commits and Rollbacks are cumulative counters (pg_stat_database).
	Commits, Rollbacks int64
	SizeBytes          int64
	Connections        int
}

// Activity is what runs now.
type Activity struct {
	// Active is the number of sessions running a query.
	Active  int
	Running []RunningQuery
}

// RunningQuery is one query in progress.
type RunningQuery struct {
	// ID is the backend pid (PostgreSQL) or query_id (Redshift).
	ID        int64
	PID       int64
	User      string
	Database  string
	Label     string
	Started   time.Time
	Elapsed   time.Duration
	QueueTime time.Duration
	Text      string
}

// Table is the health of one table.
type Table struct {
	Schema, Name string
	Rows         int64 // live (PostgreSQL) or tbl_rows (Redshift)
	DeadRows     int64 // dead tuples (PostgreSQL) or tbl_rows − estimated_visible_rows
	SizeMB       float64
	// UnusedPercent is the share of space or rows that holds nothing live.
	UnusedPercent float64
	// UnsortedPercent and SkewPercent are Redshift-only (-1 elsewhere).
	UnsortedPercent float64
	SkewPercent     float64
	// StatsOff is how stale the statistics are, 0–100.
	StatsOff float64
	// ModifiedSinceAnalyze counts rows changed since the last ANALYZE
	// (PostgreSQL; -1 where unknown).
	ModifiedSinceAnalyze int64
	LastVacuum           *time.Time
	LastAnalyze          *time.Time
}

// QueryCounts counts finished queries in a window.
type QueryCounts struct {
	Succeeded, Failed int64
	Until             time.Time
}

// LoadErrors counts load error rows in a window.
type LoadErrors struct {
	Count int64
	// Until is the end of the window (the warehouse's clock), the start of
	// the next one.
	Until time.Time
}

// Pipeline is the state of the pipeline's ledger.
type Pipeline struct {
	LastSuccess *time.Time
	// FirstStart is when the first recorded run started: the delay of a
	// pipeline that never succeeded counts from there.
	FirstStart *time.Time
	Running    bool
}

// Usage is serverless compute usage in a window.
type Usage struct {
	ComputeSeconds float64
	ChargedSeconds float64
	Until          time.Time
}

// RPUMinute is the average RPUs in use in the minute starting At.
type RPUMinute struct {
	At  time.Time
	RPU float64
}

// PipelineRun is one run of the pipeline's ledger.
type PipelineRun struct {
	ID         int64      `json:"id"`
	Pipeline   string     `json:"pipeline"`
	Started    time.Time  `json:"started_at"`
	Finished   *time.Time `json:"finished_at,omitempty"`
	Status     string     `json:"status"`
	FailedStep string     `json:"failed_step,omitempty"`
	Error      string     `json:"error,omitempty"`
}

// LoadErrorRow is one rejected row of a load.
type LoadErrorRow struct {
	Time    time.Time `json:"time"`
	File    string    `json:"file"`
	Line    int64     `json:"line"`
	Column  string    `json:"column,omitempty"`
	Code    int64     `json:"error_code"`
	Message string    `json:"message"`
}

// FailedQuery is a query that failed.
type FailedQuery struct {
	ID    int64     `json:"query_id"`
	User  string    `json:"user"`
	Time  time.Time `json:"time"`
	Error string    `json:"error"`
	Text  string    `json:"query"`
}

// Column is a column of a user table.
type Column struct {
	Schema, Table, Name, Type string
}

// CustomRow is one row of a custom metric query.
type CustomRow struct {
	Dimensions map[string]string
	Value      float64
}

// Warehouse is a dialect of SQL over one connection.
type Warehouse interface {
	// Snapshot reads what want asks for in one round trip.
	Snapshot(ctx context.Context, want Want) (*Snapshot, error)
	// Statements is the number of SQL statements sent so far.
	Statements() int64
	Close() error
}

// ErrNoPipelineDefault says that ops.pipeline_runs.pipeline does not
// default to the spec's pipeline.name and warehouse init could not make it
// so; the schema is otherwise ready, but a loader must write pipeline.
var ErrNoPipelineDefault = errors.New("ops.pipeline_runs.pipeline does not default to the spec's pipeline.name: loaders must write pipeline")
