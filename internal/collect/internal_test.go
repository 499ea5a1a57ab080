package collect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
)

func TestLogTimeReadsTheServersZone(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 27, 3, 4, 5, 123e6, time.UTC)
	for _, ts := range []string{"2026-11-27 12:04:05.123 JST", "2026-11-27 03:04:05.123 UTC", "2026-11-27 12:04:05.123 +09", "2026-11-27 03:04:05.123 GMT"} {
		got, ok := logTime(ts, tokyo)
		if !ok || !got.Equal(want) {
			t.Errorf("%s: %v %v, want %v", ts, got.UTC(), ok, want)
		}
	}
	// An abbreviation Go cannot place would be read as UTC: refused.
	for _, ts := range []string{"2026-11-27 04:04:05.123 CET", "yesterday"} {
		if got, ok := logTime(ts, tokyo); ok {
			t.Errorf("%s read as %v", ts, got.UTC())
		}
	}
}

// TestOverlongLogLineIsSkipped: a line longer than one read must not stop
// the log for good; the lines after it are still read.
func TestOverlongLogLineIsSkipped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "postgresql.json")
	huge := `{"timestamp":"2026-11-27 03:04:05.123 UTC","error_severity":"ERROR","message":"` + strings.Repeat("x", maxLogRead) + `"}`
	next := `{"timestamp":"2026-11-27 03:05:00.000 UTC","error_severity":"ERROR","message":"after the long one"}`
	if err := os.WriteFile(path, []byte(huge+"\n"+next+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
	var off int64
	var got []string
	for range 4 {
		lines, n, err := tailLog(path, off, time.UTC, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			got = append(got, l.Message)
		}
		off = n
	}
	if len(got) != 1 || got[0] != "after the long one" {
		t.Errorf("read %d lines %.40q; want the line after the overlong one", len(got), got)
	}
	if st, _ := os.Stat(path); off != st.Size() {
		t.Errorf("stopped at %d of %d", off, st.Size())
	}
}

// TestOnlyServerRefusalsCountAsOwnFailures: a part the server refused
// rolled back a transaction; rows dpcops could not read did not.
func TestOnlyServerRefusalsCountAsOwnFailures(t *testing.T) {
	errs := map[string]error{
		"custom:Slow":  fmt.Errorf("custom: %w", &pgwire.QueryError{Code: "57014", Message: "canceling statement due to statement timeout"}),
		"custom:Kinds": errors.New("metric Kinds: skipped 1 row(s): value is NULL"),
	}
	if n := serverFailures(errs); n != 1 {
		t.Errorf("%d own failures, want 1", n)
	}
}
