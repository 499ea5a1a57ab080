package alarm

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
)

// The two tables of ../shared/reference/aws-facts.md §6, copied verbatim
// from AWS's alarms-and-missing-data documentation: an evaluation range of
// 5 periods, newest on the right; 0 = not breaching, X = breaching,
// - = missing. The second column is the number of datapoints that must be
// filled; "retain" keeps the current state.
const awsTableMN3 = `
| points | filled | missing | ignore | breaching | notBreaching |
|---|---|---|---|---|---|
| 0 - X - X | 0 | OK | OK | OK | OK |
| 0 - - - - | 2 | OK | OK | OK | OK |
| - - - - - | 3 | INSUFFICIENT_DATA | retain | ALARM | OK |
| 0 X X - X | 0 | ALARM | ALARM | ALARM | ALARM |
| - - X - - | 2 | ALARM | retain | ALARM | OK |
`

const awsTableM2N3 = `
| points | missing pts | missing | ignore | breaching | notBreaching |
|---|---|---|---|---|---|
| 0 - X - X | 0 | ALARM | ALARM | ALARM | ALARM |
| 0 0 X 0 X | 0 | ALARM | ALARM | ALARM | ALARM |
| 0 - X - - | 1 | OK | OK | ALARM | OK |
| - - - - 0 | 2 | OK | OK | ALARM | OK |
| - - - X - | 2 | ALARM | retain | ALARM | OK |
`

// awsRow is one parsed row of a table.
type awsRow struct {
	points string
	filled int
	want   [4]string // missing, ignore, breaching, notBreaching
}

func parseAWSTable(t *testing.T, table string) []awsRow {
	t.Helper()
	var rows []awsRow
	for _, line := range strings.Split(strings.TrimSpace(table), "\n")[2:] {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 6 {
			t.Fatalf("row %q has %d cells", line, len(cells))
		}
		filled, err := strconv.Atoi(cells[1])
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, awsRow{points: cells[0], filled: filled, want: [4]string(cells[2:])})
	}
	return rows
}

// operatorValues gives, for each operator, a threshold and a value that
// does not breach (0) and one that does (X), right at the boundary where
// the operator's equality matters.
var operatorValues = []struct {
	op             Comparison
	threshold, ok  float64
	breach, reason string
}{
	{GreaterThan, 10, 10, "10.5", "greater than"},
	{GreaterThanOrEqual, 10, 9.5, "10", "greater than or equal to"},
	{LessThan, 10, 10, "9.5", "less than"},
	{LessThanOrEqual, 10, 10.5, "10", "less than or equal to"},
}

func rangeValues(t *testing.T, points string, ok, breach float64) []float64 {
	t.Helper()
	var out []float64
	for _, p := range strings.Fields(points) {
		switch p {
		case "0":
			out = append(out, ok)
		case "X":
			out = append(out, breach)
		case "-":
			out = append(out, math.NaN())
		default:
			t.Fatalf("bad point %q", p)
		}
	}
	return out
}

var treatments = []Missing{TreatMissing, TreatIgnore, TreatBreaching, TreatNotBreaching}
var allStates = []State{OK, Alarm, InsufficientData}

func TestAWSMissingDataTables(t *testing.T) {
	for _, tab := range []struct {
		m, n  int
		table string
	}{{3, 3, awsTableMN3}, {2, 3, awsTableM2N3}} {
		for _, row := range parseAWSTable(t, tab.table) {
			for _, ov := range operatorValues {
				breach, _ := strconv.ParseFloat(ov.breach, 64)
				values := rangeValues(t, row.points, ov.ok, breach)
				for i, treat := range treatments {
					r := Rule{Comparison: ov.op, Threshold: ov.threshold, EvaluationPeriods: tab.n, DatapointsToAlarm: tab.m, Missing: treat}
					if got := r.RangeLen(); got != len(values) {
						t.Fatalf("N = %d: evaluation range %d, want the AWS example's %d", tab.n, got, len(values))
					}
					for _, cur := range allStates {
						name := fmt.Sprintf("M=%d N=%d [%s] %s %s from %s", tab.m, tab.n, row.points, ov.op.phrase(), treat, cur)
						d := r.Decide(values, cur)
						if d.Filled != row.filled {
							t.Errorf("%s: filled %d, want %d", name, d.Filled, row.filled)
						}
						want := row.want[i]
						if want == "retain" {
							if !d.Retain || d.State != cur {
								t.Errorf("%s: got %s (retain %v), want the state kept", name, d.State, d.Retain)
							}
							continue
						}
						if d.Retain || string(d.State) != want {
							t.Errorf("%s: got %s (retain %v), want %s", name, d.State, d.Retain, want)
						}
					}
				}
			}
		}
	}
}

// TestRulesAWSLeavesOpen pins down the cases the AWS tables do not show,
// as docs/alarms.md describes them.
func TestRulesAWSLeavesOpen(t *testing.T) {
	for _, tc := range []struct {
		m, n   int
		treat  Missing
		points string
		cur    State
		want   State
		retain bool
		path   Path
	}{
		// The premature-alarm rule: a breaching point younger than M
		// periods does not alarm; the state is kept.
		{3, 3, TreatMissing, "- - - - X", OK, OK, true, PathTooFew},
		{3, 3, TreatMissing, "- - - X -", InsufficientData, InsufficientData, true, PathTooFew},
		{3, 3, TreatIgnore, "- - - X X", OK, OK, true, PathTooFew},
		// ...and a non-breaching point newer than it means OK.
		{3, 3, TreatMissing, "- X - 0 -", Alarm, OK, false, PathPartial},
		// A breaching point M or more periods old with nothing newer alarms.
		{3, 3, TreatMissing, "X - - - -", OK, Alarm, false, PathPremature},
		{2, 2, TreatMissing, "- - X -", OK, Alarm, false, PathPremature},
		// N = 1 reads 3 periods: the newest real point decides.
		{1, 1, TreatNotBreaching, "- X -", OK, Alarm, false, PathNewest},
		{1, 1, TreatNotBreaching, "- - -", Alarm, OK, false, PathFilled},
		{1, 1, TreatMissing, "- - -", Alarm, InsufficientData, false, PathNoData},
		// N = 5 reads 7 periods; 5 real ones anywhere in them are enough.
		{5, 5, TreatNotBreaching, "X X - X X - X", OK, Alarm, false, PathNewest},
		{5, 5, TreatNotBreaching, "X X - X - - X", Alarm, OK, false, PathFilled},
	} {
		r := Rule{Comparison: GreaterThan, Threshold: 0.5, EvaluationPeriods: tc.n, DatapointsToAlarm: tc.m, Missing: tc.treat}
		values := rangeValues(t, tc.points, 0, 1)
		if len(values) != r.RangeLen() {
			t.Fatalf("[%s]: want %d periods", tc.points, r.RangeLen())
		}
		d := r.Decide(values, tc.cur)
		if d.State != tc.want || d.Retain != tc.retain || d.Path != tc.path {
			t.Errorf("M=%d N=%d %s [%s] from %s: got %s retain=%v path=%d, want %s retain=%v path=%d",
				tc.m, tc.n, tc.treat, tc.points, tc.cur, d.State, d.Retain, d.Path, tc.want, tc.retain, tc.path)
		}
	}
}

func TestComparisonBoundaries(t *testing.T) {
	for _, ov := range operatorValues {
		breach, _ := strconv.ParseFloat(ov.breach, 64)
		if ov.op.Breaches(ov.ok, ov.threshold) || !ov.op.Breaches(breach, ov.threshold) || ov.op.Breaches(math.NaN(), ov.threshold) {
			t.Errorf("%s: wrong at the boundary", ov.reason)
		}
	}
	for name, want := range comparisonNames {
		if got, err := ParseComparison(name); err != nil || got != want {
			t.Errorf("ParseComparison(%q) = %v, %v", name, got, err)
		}
	}
	if _, err := ParseComparison("GreaterThan"); err == nil {
		t.Error("ParseComparison accepted a name CloudWatch does not have")
	}
	if m, err := ParseMissing(""); err != nil || m != TreatMissing {
		t.Errorf("the default treatment is missing, got %v, %v", m, err)
	}
	if _, err := ParseMissing("zero"); err == nil {
		t.Error("ParseMissing accepted an unknown value")
	}
}
