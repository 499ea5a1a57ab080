package collect

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/store"
)

// maxLogRead bounds how much of the log one cycle reads; the rest waits
// for the next.
const maxLogRead = 1 << 20

// jsonLogLine is the part of a PostgreSQL jsonlog record dpcops keeps.
type jsonLogLine struct {
	Timestamp string `json:"timestamp"`
	Severity  string `json:"error_severity"`
	Message   string `json:"message"`
	Statement string `json:"statement"`
	User      string `json:"user"`
	Database  string `json:"dbname"`
	State     string `json:"state_code"`
}

// readLog reads the server's jsonlog from where the last cycle stopped and
// keeps its ERROR, FATAL and PANIC lines. A file shorter than the offset
// was rotated or truncated: reading starts over.
func (cy *cycle) readLog() {
	path := cy.s.Warehouse.LogFile
	if path == "" {
		return
	}
	off := int64(0)
	if st, ok := cy.state(stateLogOffset); ok {
		off = int64(st.Value)
	}
	lines, next, err := tailLog(path, off, cy.s.Location(), cy.now)
	if err != nil {
		cy.fail(healthLog, err)
		return
	}
	cy.healthOf(healthLog)
	cy.logs = append(cy.logs, lines...)
	cy.setState(stateLogOffset, float64(next), cy.now)
}

// tailLog reads whole lines from off. Timestamps are read in loc (the
// server writes its log_timezone's abbreviation); a line whose time
// cannot be read is stamped now.
func tailLog(path string, off int64, loc *time.Location, now time.Time) ([]store.LogLine, int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil // the server has logged nothing yet
	}
	if err != nil {
		return nil, off, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, off, err
	}
	if st.Size() < off {
		off = 0
	}
	buf := make([]byte, min(maxLogRead, st.Size()-off))
	n, err := f.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, off, err
	}
	buf = buf[:n]
	// Only whole lines: a line the server is still writing waits.
	end := bytes.LastIndexByte(buf, '\n') + 1
	if end == 0 && n == maxLogRead {
		// One line longer than a whole read (a huge statement): skip it,
		// or the log would stay stuck on it. Its rest, up to its newline,
		// is not JSON and is dropped by the next read.
		return nil, off + int64(n), nil
	}
	var out []store.LogLine
	for _, raw := range bytes.Split(buf[:end], []byte("\n")) {
		if l, ok := parseLogLine(raw, loc, now); ok {
			out = append(out, l)
		}
	}
	return out, off + int64(end), nil
}

func parseLogLine(raw []byte, loc *time.Location, now time.Time) (store.LogLine, bool) {
	var j jsonLogLine
	if len(raw) == 0 || json.Unmarshal(raw, &j) != nil {
		return store.LogLine{}, false
	}
	switch j.Severity {
	case "ERROR", "FATAL", "PANIC":
	default:
		return store.LogLine{}, false
	}
	t, ok := logTime(j.Timestamp, loc)
	if !ok {
		t = now
	}
	var detail []string
	for _, kv := range [][2]string{{"user", j.User}, {"db", j.Database}, {"sqlstate", j.State}, {"statement", j.Statement}} {
		if kv[1] != "" {
			detail = append(detail, kv[0]+"="+kv[1])
		}
	}
	return store.LogLine{Time: t.UTC(), Source: "postgres", Severity: j.Severity, Message: j.Message, Detail: strings.Join(detail, " ")}, true
}

// logTime reads a jsonlog timestamp, "2026-11-27 12:04:05.123 JST". The
// zone is log_timezone's abbreviation, or a numeric one such as "+09"
// for zones without one. Go knows an abbreviation only as UTC or as that
// of loc (the spec's time zone): any other would be read as UTC, silently
// hours off, so it is refused.
func logTime(ts string, loc *time.Location) (time.Time, bool) {
	if t, err := time.Parse("2006-01-02 15:04:05.000 -07", ts); err == nil {
		return t, true
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05.000 MST", ts, loc)
	if err != nil {
		return time.Time{}, false
	}
	if name, off := t.Zone(); off == 0 && name != "UTC" && name != "GMT" {
		return time.Time{}, false
	}
	return t, true
}
