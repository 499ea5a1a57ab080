package alarm

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReadCSV(t *testing.T) {
	in := "\xef\xbb\xbf# exported from CloudWatch\n" +
		"time,metric,value,dimensions\n" +
		"2026-11-27T03:05:00Z,ComputeCapacity,30,Workgroup=dpc-learning\n" +
		"\n" +
		"2026-11-27T03:00:00.5+09:00, QueriesFailed ,2,\n" +
		"# a comment between rows\n" +
		"2026-11-27T03:01:00Z,QueriesFailed,NaN\n" +
		"2026-11-27T03:02:00Z,QueriesFailed,-Inf,\n" +
		"2026-11-27T03:03:00Z,Load,1e3,\"Table=public.a;Database=dev\"\n"
	ds, err := ReadCSV("in.csv", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{
		{Time: time.Date(2026, 11, 27, 3, 5, 0, 0, time.UTC), Metric: "ComputeCapacity", Dims: "Workgroup=dpc-learning", Value: 30, Line: 3},
		{Time: time.Date(2026, 11, 26, 18, 0, 0, 5e8, time.UTC), Metric: "QueriesFailed", Value: 2, Line: 5},
		{Time: time.Date(2026, 11, 27, 3, 3, 0, 0, time.UTC), Metric: "Load", Dims: "Database=dev;Table=public.a", Value: 1000, Line: 9},
	}
	if len(ds.Rows) != len(want) {
		t.Fatalf("rows %+v", ds.Rows)
	}
	for i, w := range want {
		g := ds.Rows[i]
		if !g.Time.Equal(w.Time) || g.Metric != w.Metric || g.Dims != w.Dims || g.Value != w.Value || g.Line != w.Line {
			t.Errorf("row %d = %+v, want %+v", i, g, w)
		}
	}
	// NaN and infinite values are dropped, and their lines reported.
	if !slices.Equal(ds.NonFinite, []int{7, 8}) {
		t.Errorf("NonFinite = %v, want [7 8]", ds.NonFinite)
	}
}

func TestReadCSVErrorsNameTheLine(t *testing.T) {
	const head = "time,metric,value\n"
	const ok = "2026-11-27T03:00:00Z,Load,1\n"
	for _, tc := range []struct{ in, want string }{
		{"", "f.csv:1: empty file: want a header row time,metric,value[,dimensions]"},
		{"# only a comment\n", "f.csv:1: empty file"},
		{"when,what,how much\n" + ok, `f.csv:1: want the header row time,metric,value[,dimensions], got "when,what,how much"`},
		{"time,metric\n", "f.csv:1: want the header row"},
		{"# c\ntime,metric,value,dimensions,extra\n", "f.csv:2: want the header row"},
		{head + ok + "2026-11-27 03:00,Load,1\n", `f.csv:3: time "2026-11-27 03:00" is not RFC 3339 (2026-11-27T03:05:00Z)`},
		{head + ok + ok + "2026-11-27T03:00:00Z,Load,high\n", `f.csv:4: value "high" is not a number`},
		{head + "2026-11-27T03:00:00Z,,1\n", "f.csv:2: no metric name"},
		{head + "2026-11-27T03:00:00Z,Load\n", "f.csv:2: want 3 columns (time,metric,value), got 2"},
		{head + "2026-11-27T03:00:00Z,Load,1,Host=a\n", "f.csv:2: want 3 columns (time,metric,value), got 4"},
		{"time,metric,value,dimensions\n" + "2026-11-27T03:00:00Z,Load,1,Host\n", `f.csv:2: dimension "Host": want name=value`},
		{"time,metric,value,dimensions\n" + "2026-11-27T03:00:00Z,Load,1,Host=a;Host=b\n", `f.csv:2: dimension "Host" given twice`},
		{"time,metric,value,dimensions\n" + "2026-11-27T03:00:00Z,Load,1,=a\n", "f.csv:2: dimension \"=a\": want name=value"},
		{"time,metric,value,dimensions\n" + "2026-11-27T03:00:00Z,Load,1,Host=a=b\n", `f.csv:2: dimension "Host": value "a=b" contains = or ;`},
		{head + ok + "\n\n2026-11-27T03:00:00Z,\"Load,1\n", "f.csv:5: extraneous or missing \" in quoted-field"},
	} {
		_, err := ReadCSV("f.csv", strings.NewReader(tc.in))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %s...", tc.in, err, tc.want)
		}
	}
}

// TestReadCSVErrorsQuoteOnlyAnExcerpt gives each field a value of a
// megabyte in a malformed row: the error must name the line and quote
// only the value's start, not print the whole field.
func TestReadCSVErrorsQuoteOnlyAnExcerpt(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	const dims = "time,metric,value,dimensions\n2026-11-27T03:00:00Z,Load,1,"
	for _, tc := range []struct{ name, in, want string }{
		{"header", long + ",metric,value\n", `f.csv:1: want the header row time,metric,value[,dimensions], got "xxx`},
		{"time", "time,metric,value\n" + long + ",Load,1\n", `f.csv:2: time "xxx`},
		{"value", "time,metric,value\n2026-11-27T03:00:00Z,Load," + long + "\n", `f.csv:2: value "xxx`},
		{"dimension", dims + long + "\n", `f.csv:2: dimension "xxx`},
		{"dimension name", dims + long + "=a;" + long + "=b\n", `f.csv:2: dimension "xxx`},
		{"dimension value", dims + "Host=" + long + "=\n", `f.csv:2: dimension "Host": value "xxx`},
	} {
		_, err := ReadCSV("f.csv", strings.NewReader(tc.in))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || !strings.Contains(err.Error(), "x…\"") || len(err.Error()) > 200 {
			msg := fmt.Sprint(err)
			t.Errorf("%s: %d bytes: %.300s", tc.name, len(msg), msg)
		}
	}
}

func TestExcerpt(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{strings.Repeat("a", 80), strings.Repeat("a", 80)},
		{strings.Repeat("a", 81), strings.Repeat("a", 80) + "…"},
		// Characters, not bytes, and never half of one.
		{strings.Repeat("日", 80), strings.Repeat("日", 80)},
		{strings.Repeat("日", 81), strings.Repeat("日", 80) + "…"},
	} {
		if got := Excerpt(tc.in); got != tc.want {
			t.Errorf("Excerpt(%d bytes) = %q, want %q", len(tc.in), got, tc.want)
		}
	}
}

var errorPrefix = regexp.MustCompile(`^f\.csv:[1-9][0-9]*: `)

func FuzzReadCSV(f *testing.F) {
	f.Add("time,metric,value\n2026-11-27T03:00:00Z,Load,1\n")
	f.Add("time,metric,value,dimensions\n2026-11-27T03:00:00Z,Load,1,Host=a;Db=b\n2026-11-27T02:00:00Z,Load,NaN,\n")
	f.Add("\xef\xbb\xbf# c\ntime,metric,value\n\n\"2026-11-27T03:00:00Z\",\"a\"\"b\",-0\n")
	f.Add("time,metric,value\n2026-11-27T03:00:00Z,Load,1e400\n")
	f.Fuzz(func(t *testing.T, in string) {
		ds, err := ReadCSV("f.csv", strings.NewReader(in))
		if err != nil {
			// Every error names the file and a line.
			if !errorPrefix.MatchString(err.Error()) {
				t.Fatalf("error without FILE:LINE: %v", err)
			}
			// It quotes at most two excerpts of the input, each of 80
			// characters even if every one is escaped.
			if len(err.Error()) > 2000 {
				t.Fatalf("error of %d bytes: %.300s", len(err.Error()), err)
			}
			return
		}
		last := 0
		for _, r := range ds.Rows {
			if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) || r.Metric == "" || r.Line <= last {
				t.Fatalf("bad row %+v after line %d", r, last)
			}
			last = r.Line
		}
	})
}
