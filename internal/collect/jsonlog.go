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
	lines, next, err := tailLog(path, off)
	if err != nil {
		cy.fail(healthLog, err)
		return
	}
	cy.healthOf(healthLog)
	cy.logs = append(cy.logs, lines...)
	cy.setState(stateLogOffset, float64(next), cy.now)
}

func tailLog(path string, off int64) ([]store.LogLine, int64, error) {
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
	var out []store.LogLine
	for _, raw := range bytes.Split(buf[:end], []byte("\n")) {
		if l, ok := parseLogLine(raw); ok {
			out = append(out, l)
		}
	}
	return out, off + int64(end), nil
}

func parseLogLine(raw []byte) (store.LogLine, bool) {
	var j jsonLogLine
	if len(raw) == 0 || json.Unmarshal(raw, &j) != nil {
		return store.LogLine{}, false
	}
	switch j.Severity {
	case "ERROR", "FATAL", "PANIC":
	default:
		return store.LogLine{}, false
	}
	t, err := time.Parse("2006-01-02 15:04:05.000 MST", j.Timestamp)
	if err != nil {
		t = time.Now()
	}
	var detail []string
	for _, kv := range [][2]string{{"user", j.User}, {"db", j.Database}, {"sqlstate", j.State}, {"statement", j.Statement}} {
		if kv[1] != "" {
			detail = append(detail, kv[0]+"="+kv[1])
		}
	}
	return store.LogLine{Time: t.UTC(), Source: "postgres", Severity: j.Severity, Message: j.Message, Detail: strings.Join(detail, " ")}, true
}
