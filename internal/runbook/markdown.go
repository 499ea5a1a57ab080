package runbook

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// The Markdown here is the common part of what Confluence's and Notion's
// importers take: ATX headings, pipe tables, bullet lists and inline code.
// No HTML, no footnotes, no nested tables.

// escaper makes text from elsewhere (alarm descriptions, operators' notes,
// receivers' and the warehouse's errors, query text) inert in Markdown.
// A page that renders inline HTML (GitHub, a wiki's Markdown import) would
// run a tag in it, so <, > and & become entities: the tag is shown, never
// run. A pipe is escaped so that it cannot end a table cell, and a
// backslash is doubled so that it cannot undo that escape: text ending in
// a backslash before a pipe would otherwise give "\\|", an escaped
// backslash and then a pipe that splits the cell.
// Brackets and backticks are escaped too, so that no link, image (a
// tracking pixel) or code span can be made of the text, and a line that
// would start a heading, a list or a fence starts with an escape instead.
var escaper = strings.NewReplacer(`\`, `\\`, "&", "&amp;", "<", "&lt;", ">", "&gt;", "|", `\|`,
	"[", `\[`, "]", `\]`, "`", "\\`", "*", `\*`)

// blockStart matches what would open a block at the start of a line: an
// ATX heading, a list item, a setext underline, a fence of tildes.
var blockStart = regexp.MustCompile(`^([#+=~-]|[0-9]{1,9}[.)])`)

// cell makes text safe for one table cell, or one line of a paragraph or
// list: whitespace (newlines too) collapsed to single spaces, then
// escaped.
func cell(s string) string {
	s = escaper.Replace(strings.Join(strings.Fields(s), " "))
	if m := blockStart.FindStringIndex(s); m != nil {
		s = s[:m[1]-1] + `\` + s[m[1]-1:]
	}
	return s
}

// code quotes a command for inline code, outside tables (a code span shows
// its text as it is: no HTML in it runs). The fence is one backtick longer
// than the longest run of backticks in the command, so nothing in it can
// close the span early, and newlines, which would end the line, become
// spaces.
func code(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

type md struct{ b strings.Builder }

func (m *md) line(format string, args ...any) { fmt.Fprintf(&m.b, format+"\n", args...) }
func (m *md) blank()                          { m.b.WriteString("\n") }

func (m *md) table(header []string, rows [][]string) {
	m.line("| %s |", strings.Join(header, " | "))
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---"
	}
	m.line("| %s |", strings.Join(seps, " | "))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = cell(c)
		}
		m.line("| %s |", strings.Join(cells, " | "))
	}
	m.blank()
}

// Markdown renders the triage report for people: a heading, the findings
// with their next commands, then the evidence.
func (r *Report) Markdown(loc *time.Location) string {
	var m md
	ts := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05 MST") }
	m.line("# Triage: %s (%s)", cell(r.Platform), cell(r.Environment))
	m.blank()
	m.line("Generated %s, looking back to %s.", ts(r.Generated), ts(r.Since))
	m.blank()
	m.line("## Findings")
	m.blank()
	if len(r.Findings) == 0 {
		m.line("Nothing needs attention: no alarm is in ALARM, no run failed, no rows were rejected.")
		m.blank()
	}
	for i, f := range r.Findings {
		m.line("%d. **[%s] %s**", i+1, f.Severity, cell(f.Title))
		if f.Detail != "" {
			m.line("   %s", cell(f.Detail))
		}
		m.line("   Next: %s", code(f.Next))
	}
	if len(r.Findings) > 0 {
		m.blank()
	}
	if len(r.Alarms) > 0 {
		m.line("## Alarms in ALARM")
		m.blank()
		rows := [][]string{}
		for _, a := range r.Alarms {
			rows = append(rows, []string{a.Name, a.Severity, ts(a.Since), a.Reason})
		}
		m.table([]string{"Alarm", "Severity", "Since", "Reason"}, rows)
	}
	if p := r.Pipeline; p != nil && len(p.Runs) > 0 {
		m.line("## Pipeline %s", cell(p.Name))
		m.blank()
		rows := [][]string{}
		for _, run := range p.Runs {
			end := "running"
			if run.Finished != nil {
				end = ts(*run.Finished)
			}
			rows = append(rows, []string{ts(run.Started), end, run.Status, run.FailedStep, run.Error})
		}
		m.table([]string{"Started", "Finished", "Status", "Failed step", "Error"}, rows)
	}
	if len(r.LoadErrors) > 0 {
		m.line("## Load errors by file")
		m.blank()
		rows := [][]string{}
		for _, f := range r.LoadErrors {
			for _, e := range f.Examples {
				rows = append(rows, []string{f.File, fmt.Sprint(f.Rows), fmt.Sprint(e.Line), e.Column, fmt.Sprint(e.Code), e.Message})
			}
		}
		m.table([]string{"File", "Rows rejected", "Line", "Column", "Code", "Message"}, rows)
	}
	r.markdownQueries(&m, ts)
	if r.DBT != nil && len(r.DBT.Failed) > 0 {
		m.line("## dbt (%s, %s)", cell(r.DBT.Path), ts(r.DBT.GeneratedAt))
		m.blank()
		rows := [][]string{}
		for _, f := range r.DBT.Failed {
			rows = append(rows, []string{f.Type, f.Name, f.Status, f.Message, f.Next})
		}
		m.table([]string{"Type", "Node", "Status", "Message", "Next"}, rows)
	}
	if len(r.Trends) > 0 {
		m.line("## Trends")
		m.blank()
		rows := [][]string{}
		for _, t := range r.Trends {
			rows = append(rows, []string{t.Metric, t.Unit, num(t.First), num(t.Last), num(t.Max)})
		}
		m.table([]string{"Metric", "Unit", "First", "Last", "Max"}, rows)
	}
	if len(r.Problems) > 0 {
		m.line("## Not read")
		m.blank()
		for _, p := range r.Problems {
			m.line("- %s", cell(p))
		}
		m.blank()
	}
	return m.b.String()
}

func (r *Report) markdownQueries(m *md, ts func(time.Time) string) {
	if len(r.Failed) > 0 {
		m.line("## Failed queries")
		m.blank()
		rows := [][]string{}
		for _, q := range r.Failed {
			rows = append(rows, []string{ts(q.Time), q.User, q.Error, oneLine(q.Text, 160)})
		}
		m.table([]string{"Time", "User", "Error", "Query"}, rows)
	}
	if len(r.Long) > 0 {
		m.line("## Long-running queries")
		m.blank()
		rows := [][]string{}
		for _, q := range r.Long {
			rows = append(rows, []string{fmt.Sprint(q.ID), q.User, q.Elapsed.Round(time.Second).String(), oneLine(q.Text, 160), "dpcops recover cancel-query " + fmt.Sprint(q.ID)})
		}
		m.table([]string{"ID", "User", "Running for", "Query", "Next"}, rows)
	}
}

func num(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}
