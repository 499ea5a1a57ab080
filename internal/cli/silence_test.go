package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSilenceCommands: add, list and expire on a data directory, and the
// bad input each refuses with a clear message and exit 2, nothing added.
func TestSilenceCommands(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--alarm", "Alert-ELT-Delay", "--comment", "x"}, "needs an end"},
		{[]string{"--alarm", "Alert-ELT-Delay", "--for", "2h"}, "needs --comment"},
		{[]string{"--for", "2h", "--comment", "x"}, "needs a matcher"},
		{[]string{"--match", "team", "--for", "2h", "--comment", "x"}, "want label=value"},
		{[]string{"--alarm", "Alert-ELT-Delay", "--for", "2h", "--until", "2030-01-01 00:00", "--comment", "x"}, "not both"},
		{[]string{"--alarm", "Alert-ELT-Delay", "--until", "tomorrow", "--comment", "x"}, "neither RFC 3339"},
	} {
		r := run(t, "", append([]string{"silence", "add", "--data", data}, tt.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: %+v, want exit 2 and %q", tt.args, r, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "dpcops.db")); !os.IsNotExist(err) {
		t.Fatalf("a refused silence opened the store: %v", err)
	}
	r := run(t, "", "silence", "add", "--data", data, "--alarm", "Alert-RPU-Spike", "--for", "2h", "--comment", "monthly dbt run")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "silence 1 until ") {
		t.Fatalf("%+v", r)
	}
	r = run(t, "", "silence", "add", "--data", data, "--alarm", "Alert-RPU-Spik", "--for", "1h", "--comment", "typo")
	if r.code != 0 || !strings.Contains(r.stderr, "warning: the silence matches no alarm of the spec; its alarms are ") || !strings.Contains(r.stderr, "Alert-RPU-Spike") {
		t.Fatalf("a matcher that matches nothing: %+v", r)
	}
	if r = run(t, "", "silence", "list", "--data", data); r.code != 0 || !strings.Contains(r.stdout, "alarm=Alert-RPU-Spike") || !strings.Contains(r.stdout, "monthly dbt run") {
		t.Fatalf("list: %+v", r)
	}
	if r = run(t, "", "silence", "expire", "--data", data, "1"); r.code != 0 {
		t.Fatalf("expire: %+v", r)
	}
	if r = run(t, "", "silence", "expire", "--data", data, "1"); r.code != 1 || !strings.Contains(r.stderr, "ended already") {
		t.Errorf("expire twice: %+v", r)
	}
	if r = run(t, "", "silence", "expire", "--data", data, "99"); r.code != 1 || !strings.Contains(r.stderr, "no such silence") {
		t.Errorf("expire a silence that does not exist: %+v", r)
	}
	if r = run(t, "", "silence", "list", "--data", data); strings.Contains(r.stdout, "Alert-RPU-Spike,") || strings.Count(r.stdout, "\n") != 2 {
		t.Errorf("an expired silence is listed without --all: %s", r.stdout)
	}
	if r = run(t, "", "silence", "list", "--all", "--data", data); !strings.Contains(r.stdout, "ended") {
		t.Errorf("--all: %s", r.stdout)
	}
}
