package awstest

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// PutLogEvents' rules, from the PutLogEvents API reference (as quoted in
// the doc comment of cloudwatchlogs v1.92.2's PutLogEventsInput): a batch
// holds 1 to 10,000 events and at most 1,048,576 bytes, each event counted
// as its UTF-8 message plus 26 bytes; an event is at most 1 MB; events must
// be in chronological order; the valid events must span at most 24 hours;
// events more than 14 days old or more than 2 hours ahead are rejected
// while the rest are taken.
const (
	maxLogBatchEvents = 10000
	maxLogBatchBytes  = 1048576
	logEventOverhead  = 26
	// maxLogEventBytes counts the overhead too, as the old 256 KB limit
	// did (a message of at most 262,118 bytes).
	maxLogEventBytes = 1048576
	maxLogBatchSpan  = 24 * time.Hour
	maxLogEventAge   = 14 * 24 * time.Hour
	maxLogEventAhead = 2 * time.Hour
)

// LogEvent is an event PutLogEvents accepted.
type LogEvent struct {
	Stream    string
	Timestamp time.Time
	Message   string
}

// logGroup is a fake log group: its streams and accepted events.
type logGroup struct {
	streams map[string]bool
	events  []LogEvent
}

// SetLogGroup creates a log group (empty, with no streams), or empties one.
func (s *Server) SetLogGroup(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.logs == nil {
		s.logs = map[string]*logGroup{}
	}
	s.logs[name] = &logGroup{streams: map[string]bool{}}
}

// LogEvents returns the events a group accepted, in arrival order.
func (s *Server) LogEvents(group string) []LogEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.logs[group]; g != nil {
		return append([]LogEvent(nil), g.events...)
	}
	return nil
}

// logsInput holds the members of the CloudWatch Logs requests the fake
// answers, named as the SDK serializes them.
type logsInput struct {
	LogGroupName  string `json:"logGroupName"`
	LogStreamName string `json:"logStreamName"`
	LogEvents     []struct {
		Timestamp *int64  `json:"timestamp"`
		Message   *string `json:"message"`
	} `json:"logEvents"`
}

// serveLogs answers CloudWatch Logs (awsJson1.1).
func (s *Server) serveLogs(w http.ResponseWriter, op string, body []byte) {
	r := newReply11(w)
	var in logsInput
	m, ok := decode11(r, body, &in)
	if !ok {
		return
	}
	if f, ok := s.failure(op); ok {
		r.fail(f.Status, f.Type, "injected "+f.Type)
		return
	}
	s.record(Call{Operation: op, Body: m})
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.logs[in.LogGroupName]
	switch op {
	case "CreateLogGroup":
		if g != nil {
			r.fail(http.StatusBadRequest, "ResourceAlreadyExistsException", "The specified log group already exists")
			return
		}
		if s.logs == nil {
			s.logs = map[string]*logGroup{}
		}
		s.logs[in.LogGroupName] = &logGroup{streams: map[string]bool{}}
		r.ok(map[string]any{})
	case "CreateLogStream":
		switch {
		case g == nil:
			r.fail(http.StatusBadRequest, "ResourceNotFoundException", "The specified log group does not exist.")
		case g.streams[in.LogStreamName]:
			r.fail(http.StatusBadRequest, "ResourceAlreadyExistsException", "The specified log stream already exists")
		default:
			g.streams[in.LogStreamName] = true
			r.ok(map[string]any{})
		}
	case "PutLogEvents":
		switch {
		case g == nil:
			r.fail(http.StatusBadRequest, "ResourceNotFoundException", "The specified log group does not exist.")
		case !g.streams[in.LogStreamName]:
			r.fail(http.StatusBadRequest, "ResourceNotFoundException", "The specified log stream does not exist.")
		default:
			s.putLogEvents(r, g, in)
		}
	default:
		r.fail(http.StatusBadRequest, "UnknownOperationException", op)
	}
}

// putLogEvents applies PutLogEvents' rules to a batch; the caller holds
// s.mu. A batch that breaks a rule fails whole; events only too old or too
// new are left out and reported, and the rest are taken.
func (s *Server) putLogEvents(r reply11, g *logGroup, in logsInput) {
	invalid := func(format string, args ...any) {
		r.fail(http.StatusBadRequest, "InvalidParameterException", fmt.Sprintf(format, args...))
	}
	n := len(in.LogEvents)
	if n == 0 || n > maxLogBatchEvents {
		invalid("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length between 1 and %d (got %d)", maxLogBatchEvents, n)
		return
	}
	stamps := make([]int64, n)
	size := 0
	for i, e := range in.LogEvents {
		if e.Timestamp == nil || e.Message == nil || *e.Message == "" {
			invalid("log event %d needs a timestamp and a message of at least 1 character", i)
			return
		}
		stamps[i] = *e.Timestamp
		bytes := len(*e.Message) + logEventOverhead
		if bytes > maxLogEventBytes {
			invalid("Log event too large: %d bytes exceeds limit of %d", bytes, maxLogEventBytes)
			return
		}
		size += bytes
		if i > 0 && stamps[i] < stamps[i-1] {
			invalid("Log events in a single PutLogEvents request must be in chronological order.")
			return
		}
	}
	if size > maxLogBatchBytes {
		invalid("Upload too large: %d bytes exceeds limit of %d", size, maxLogBatchBytes)
		return
	}
	// The batch is in time order, so the too-old events are a prefix and
	// the too-new ones a suffix.
	now := time.Now()
	oldest, newest := now.Add(-maxLogEventAge).UnixMilli(), now.Add(maxLogEventAhead).UnixMilli()
	tooOldEnd, tooNewStart := 0, n
	for tooOldEnd < n && stamps[tooOldEnd] < oldest {
		tooOldEnd++
	}
	for tooNewStart > tooOldEnd && stamps[tooNewStart-1] > newest {
		tooNewStart--
	}
	if tooNewStart > tooOldEnd && time.Duration(stamps[tooNewStart-1]-stamps[tooOldEnd])*time.Millisecond > maxLogBatchSpan {
		invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
		return
	}
	for _, e := range in.LogEvents[tooOldEnd:tooNewStart] {
		g.events = append(g.events, LogEvent{Stream: in.LogStreamName, Timestamp: time.UnixMilli(*e.Timestamp).UTC(), Message: *e.Message})
	}
	// The token is a relic AWS still returns and no longer checks.
	out := map[string]any{"nextSequenceToken": strconv.Itoa(len(g.events))}
	rejected := map[string]int{}
	if tooOldEnd > 0 {
		rejected["tooOldLogEventEndIndex"] = tooOldEnd // exclusive
	}
	if tooNewStart < n {
		rejected["tooNewLogEventStartIndex"] = tooNewStart // inclusive
	}
	if len(rejected) > 0 {
		out["rejectedLogEventsInfo"] = rejected
	}
	r.ok(out)
}
