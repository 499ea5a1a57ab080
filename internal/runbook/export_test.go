package runbook

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/store"
	"github.com/dpc-learning/dpcops/internal/store/storetest"
)

// Text that would run in a wiki that renders inline HTML, or break a
// table, if it reached the export as it is.
const (
	scriptTag = `<script>alert(1)</script>`
	imgTag    = `<img src=x onerror=alert(document.cookie)>`
	// Markdown of its own: a link, a tracking image, a fence, a heading.
	mdLink  = `[docs](javascript:alert(1))`
	mdImage = `![](https://attacker.example/p.png)`
)

// TestExportEscapesHTMLAndKeepsTables: an alarm description, an
// operator's note, a receiver's error, a transition reason, a failed run's
// error and a load error carry HTML tags, pipes and newlines. The export
// holds no raw tag (every < is an entity), shows the text, and every table
// row has as many cells as its header.
func TestExportEscapesHTMLAndKeepsTables(t *testing.T) {
	ctx := context.Background()
	s := localSpec(t, "postgres://unused/db")
	a, ok := s.Alarm("Alert-ELT-Delay")
	if !ok {
		t.Fatal("the example spec has no Alert-ELT-Delay")
	}
	a.Description = "ELT is late " + scriptTag + " | see\nthe runbook & " + imgTag
	st := storetest.Open(t)
	in := NewIncidents(s, st)
	t0 := time.Date(2026, 11, 27, 1, 5, 0, 0, time.UTC)
	fire := alarm.Transition{Alarm: "Alert-ELT-Delay", Time: t0, From: alarm.OK, To: alarm.Alarm, Episode: 1,
		Reason: "late | by\n95 minutes " + imgTag}
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		var id int64
		if err := tx.QueryRow(`INSERT INTO alarm_history (alarm, at, from_state, to_state, reason, episode) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			fire.Alarm, store.Millis(fire.Time), string(fire.From), string(fire.To), fire.Reason, fire.Episode).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO outbox (channel, kind, alarm, transition_id, dedup_key, payload, state, attempts, next_attempt_at, created_at, last_error)
			VALUES ('webhook', 'trigger', ?, ?, 'Alert-ELT-Delay/1', '{}', 'failed', 3, 0, ?, ?)`,
			fire.Alarm, id, store.Millis(t0.Add(time.Second)), "HTTP 400: "+scriptTag+" | bad\r\npayload \\|"); err != nil {
			return err
		}
		return in.OnTransition(ctx, tx, fire)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Note(ctx, 1, t0.Add(time.Minute), "checked "+imgTag+" | col\nnext line"); err != nil {
		t.Fatal(err)
	}
	if err := in.Note(ctx, 1, t0.Add(2*time.Minute), "see "+mdLink+" and "+mdImage+" `code` **bold**"); err != nil {
		t.Fatal(err)
	}
	rec, err := Gather(ctx, in, Sources{Spec: s, Store: st, Now: func() time.Time { return t0.Add(time.Hour) }}, 1)
	if err != nil {
		t.Fatal(err)
	}
	rec.Unavailable = []string{"warehouse unreachable: " + scriptTag, "# not a heading", "```", "1. not a list", "- nor this"}
	rec.Description = "```\n" + mdImage + "\n" + rec.Description
	rec.FailedRuns = []backend.PipelineRun{{ID: 7, Started: t0.Add(-time.Hour), Status: "failed", FailedStep: "dbt|run", Error: scriptTag + "\n| x | y |"}}
	rec.LoadErrors = []FileErrors{{File: "s3://raw/<b>x</b>.csv", Rows: 1,
		Examples: []backend.LoadErrorRow{{Line: 1, Column: "a|b", Code: 1207, Message: imgTag}}}}
	got := rec.Markdown(s, t0.Add(time.Hour))

	if strings.Contains(got, "<") || strings.Contains(got, ">") {
		t.Errorf("the export holds a raw < or >:\n%s", got)
	}
	for _, want := range []string{
		"ELT is late &lt;script&gt;alert(1)&lt;/script&gt; \\| see the runbook &amp; &lt;img src=x onerror=alert(document.cookie)&gt;",
		"checked &lt;img src=x onerror=alert(document.cookie)&gt; \\| col next line",
		"HTTP 400: &lt;script&gt;alert(1)&lt;/script&gt; \\| bad payload \\\\\\|",
		"- warehouse unreachable: &lt;script&gt;alert(1)&lt;/script&gt;",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the export lacks %q:\n%s", want, got)
		}
	}
	checkTables(t, got)
	checkInert(t, got)

	golden := "testdata/incident_hostile.md"
	if *update {
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("export differs from %s (run with -update to accept):\n%s", golden, got)
	}
}

// checkInert checks that no link, image or code fence can be made of
// the outside text, and that no line of it opens a heading or a list.
func checkInert(t *testing.T, doc string) {
	t.Helper()
	for i, line := range strings.Split(doc, "\n") {
		line = unescaped(line)
		for _, bad := range []string{"](", "![", "```"} {
			if strings.Contains(line, bad) {
				t.Errorf("line %d holds %q: %s", i+1, bad, line)
			}
		}
		for _, bad := range []string{"- #", "- 1.", "- -"} {
			if strings.HasPrefix(line, bad) {
				t.Errorf("line %d opens a block: %s", i+1, line)
			}
		}
	}
}

// unescaped replaces each backslash escape (the backslash and the
// character it escapes) with a space, leaving what Markdown would read as
// syntax.
func unescaped(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		if line[i] == '\\' && i+1 < len(line) {
			b.WriteString("  ")
			i++
			continue
		}
		b.WriteByte(line[i])
	}
	return b.String()
}

// checkTables checks that every row of every table has as many cells as
// its header, counting the pipes a Markdown table splits on: those not
// escaped by a backslash (a doubled backslash escapes only itself).
func checkTables(t *testing.T, doc string) {
	t.Helper()
	header, tables := -1, 0
	for i, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "|") {
			header = -1
			continue
		}
		n := cells(line)
		if header < 0 {
			header = n
			tables++
			continue
		}
		if n != header {
			t.Errorf("line %d has %d cells, its table's header %d: %s", i+1, n, header, line)
		}
	}
	if tables < 4 {
		t.Errorf("found %d tables, want the incident's, timeline, error summary (two) and data quality", tables)
	}
}

func cells(row string) int {
	pipes := 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '\\':
			i++ // the next character is escaped
		case '|':
			pipes++
		}
	}
	return pipes - 1
}

// TestCodeSpanHoldsAnyCommand: no backticks or newline in a command can
// end its code span early.
func TestCodeSpanHoldsAnyCommand(t *testing.T) {
	for in, want := range map[string]string{
		"dpcops recover rerun-pipeline": "`dpcops recover rerun-pipeline`",
		"echo `date`":                   "`` echo `date` ``",
		"a ``b`` c":                     "```a ``b`` c```",
		"dbt run\n--select x":           "`dbt run --select x`",
	} {
		if got := code(in); got != want {
			t.Errorf("code(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestErrorSummaryNeverContradictsItself: the summary says what the
// warehouse answered, that it did not answer, or that its rows are gone
// though dpcops counted some; never "no rejected rows" beside a count of
// them.
func TestErrorSummaryNeverContradictsItself(t *testing.T) {
	s := localSpec(t, "postgres://unused/db")
	at := time.Date(2026, 11, 27, 1, 5, 0, 0, time.UTC)
	three := 3.0
	for _, tc := range []struct {
		name string
		rec  Record
		want string
	}{
		{"warehouse silent", Record{Unavailable: []string{"warehouse unreachable: timeout"}}, "were not read: the warehouse did not answer"},
		{"rows aged out", Record{warehouseRead: true, CopyErrors: &three}, "no rejected rows from around the incident any more, though dpcops counted 3"},
		{"nothing wrong", Record{warehouseRead: true}, "No rejected rows and no failed pipeline run around the incident."},
	} {
		tc.rec.Incident = Incident{ID: 1, Alarm: "Alert-COPY-Error", Opened: at}
		got := tc.rec.Markdown(s, at.Add(time.Hour))
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: no %q in\n%s", tc.name, tc.want, got)
		}
		if tc.rec.CopyErrors != nil && strings.Contains(got, "No rejected rows") {
			t.Errorf("%s: says no rejected rows beside a count of 3:\n%s", tc.name, got)
		}
	}
}

// TestTimelineShowsWhatBearsOnTheIncident: the maintenance that failed or
// was heavy and what query rules did are on an incident's timeline; the
// routine runs that went through, and queries gone before a rule acted,
// are not.
func TestTimelineShowsWhatBearsOnTheIncident(t *testing.T) {
	ctx := context.Background()
	s := localSpec(t, "postgres://unused/db")
	st := storetest.Open(t)
	in := NewIncidents(s, st)
	opened := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	ms := func(m int) int64 { return store.Millis(opened.Add(time.Duration(m) * time.Minute)) }
	err := st.WriteTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO incidents (alarm, episode, title, opened_at) VALUES ('Alert-RPU-Spike', 1, 't', ?)`, []any{ms(0)}},
			{`INSERT INTO maintenance_runs (job, action, target, started_at, outcome) VALUES ('nightly', 'analyze', 'mart.a', ?, 'succeeded')`, []any{ms(1)}},
			{`INSERT INTO maintenance_runs (job, action, target, started_at, outcome, error) VALUES ('nightly', 'vacuum', 'mart.b', ?, 'failed', 'lock timeout')`, []any{ms(2)}},
			{`INSERT INTO maintenance_runs (job, action, target, started_at, outcome) VALUES ('monthly', 'vacuum_full', 'raw.ef', ?, 'succeeded')`, []any{ms(3)}},
			{`INSERT INTO qmr_actions (rule, query_key, action, outcome, at, query_id, pid, username, metric, value_s, threshold_s)
				VALUES ('runaway', 'k1', 'abort', 'cancelled', ?, 42, 7, 'analyst', 'execution_time', 1300, 1200)`, []any{ms(4)}},
			{`INSERT INTO qmr_actions (rule, query_key, action, outcome, at, query_id, pid, username, metric, value_s, threshold_s)
				VALUES ('runaway', 'k2', 'abort', 'gone', ?, 43, 8, 'analyst', 'execution_time', 1250, 1200)`, []any{ms(5)}},
		} {
			if _, err := tx.Exec(q.sql, q.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	inc, err := in.Get(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := in.Timeline(ctx, inc, opened.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Kind+": "+e.Text)
	}
	want := []string{"maintenance: nightly vacuum mart.b: failed", "maintenance: monthly vacuum_full raw.ef: succeeded",
		"action: query rule runaway: abort query 42 of analyst (execution_time 1300 s > 1200 s): cancelled"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
