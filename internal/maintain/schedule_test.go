package maintain

import (
	"strings"
	"testing"
	"time"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestScheduleNext(t *testing.T) {
	for _, tc := range []struct {
		name, zone, expr, after string
		want                    []string // successive firings, UTC
	}{
		{"seed weekly vacuum: Sunday 04:00 Tokyo", "Asia/Tokyo", "0 4 * * SUN", "2026-11-27T00:00:00Z",
			[]string{"2026-11-28T19:00:00Z", "2026-12-05T19:00:00Z"}},
		{"monthly on the 1st, Tokyo", "Asia/Tokyo", "0 5 1 * *", "2026-11-27T00:00:00Z",
			[]string{"2026-11-30T20:00:00Z", "2026-12-31T20:00:00Z"}},
		{"descriptor @daily is local midnight", "Asia/Tokyo", "@daily", "2026-11-27T00:00:00Z",
			[]string{"2026-11-27T15:00:00Z", "2026-11-28T15:00:00Z"}},
		{"strictly after: a firing at t is not next", "Asia/Tokyo", "0 4 * * SUN", "2026-11-28T19:00:00Z",
			[]string{"2026-12-05T19:00:00Z"}},
		{"New York gap: 02:30 runs at 03:00 EDT", "America/New_York", "30 2 * * *", "2026-03-07T17:00:00Z",
			[]string{"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}},
		{"New York gap: times inside it collapse into one run", "America/New_York", "*/15 2 * * *", "2026-03-07T17:00:00Z",
			[]string{"2026-03-08T07:00:00Z", "2026-03-09T06:00:00Z", "2026-03-09T06:15:00Z"}},
		{"New York gap: times around it are untouched", "America/New_York", "0 1,3 * * *", "2026-03-08T05:00:00Z",
			[]string{"2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z", "2026-03-09T05:00:00Z"}},
		{"New York repeated hour: 01:30 runs once, in daylight time", "America/New_York", "30 1 * * *", "2026-10-31T12:00:00Z",
			[]string{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}},
		{"New York repeated hour: hourly skips the second pass", "America/New_York", "0 * * * *", "2026-11-01T04:30:00Z",
			[]string{"2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z", "2026-11-01T08:00:00Z"}},
		{"New York: from inside the second pass", "America/New_York", "30 1 * * *", "2026-11-01T06:10:00Z",
			[]string{"2026-11-02T06:30:00Z"}},
		{"Berlin gap: 02:30 runs at 03:00 CEST", "Europe/Berlin", "30 2 * * *", "2026-03-28T12:00:00Z",
			[]string{"2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}},
		{"Berlin repeated hour: 02:30 runs once", "Europe/Berlin", "30 2 * * *", "2026-10-24T12:00:00Z",
			[]string{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
		{"TZ= prefix overrides the job's zone", "Asia/Tokyo", "TZ=UTC 0 4 * * *", "2026-11-27T00:00:00Z",
			[]string{"2026-11-27T04:00:00Z"}},
		{"@every is real time", "America/New_York", "@every 1h", "2026-03-08T06:30:00Z",
			[]string{"2026-03-08T07:30:00Z", "2026-03-08T08:30:00Z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSchedule(tc.expr, mustLoad(t, tc.zone))
			if err != nil {
				t.Fatal(err)
			}
			at := utc(tc.after)
			for i, w := range tc.want {
				at = s.Next(at)
				if !at.Equal(utc(w)) {
					t.Fatalf("firing %d: %s (%s), want %s", i+1, at.UTC().Format(time.RFC3339), at.Format(time.RFC3339), w)
				}
			}
		})
	}
}

func TestScheduleLast(t *testing.T) {
	s, err := ParseSchedule("0 4 * * SUN", mustLoad(t, "Asia/Tokyo"))
	if err != nil {
		t.Fatal(err)
	}
	last, n, ok := s.Last(utc("2026-11-01T00:00:00Z"), utc("2026-11-27T00:00:00Z"))
	if !ok || n != 3 || !last.Equal(utc("2026-11-21T19:00:00Z")) {
		t.Errorf("last %v, count %d, ok %v; want 2026-11-21T19:00Z, 3", last, n, ok)
	}
	if _, n, ok := s.Last(utc("2026-11-22T00:00:00Z"), utc("2026-11-27T00:00:00Z")); ok || n != 0 {
		t.Errorf("none due: count %d ok %v", n, ok)
	}
	// The gap's collapsed firing counts once.
	g, _ := ParseSchedule("*/15 2 * * *", mustLoad(t, "America/New_York"))
	if _, n, _ := g.Last(utc("2026-03-08T05:00:00Z"), utc("2026-03-08T12:00:00Z")); n != 1 {
		t.Errorf("gap day firings = %d, want 1", n)
	}
}

func TestScheduleRejectsInvalidCron(t *testing.T) {
	for _, expr := range []string{"61 * * * *", "* * *", "0 4 * * FUNDAY", "@fortnightly", ""} {
		if _, err := ParseSchedule(expr, time.UTC); err == nil || !strings.Contains(err.Error(), "invalid cron") {
			t.Errorf("%q: err %v", expr, err)
		}
	}
	if _, err := ParseSchedule("0 4 * * *", nil); err == nil {
		t.Error("a schedule without a zone must be refused")
	}
}

func TestScheduleThatNeverFires(t *testing.T) {
	s, err := ParseSchedule("0 0 30 2 *", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Next(utc("2026-01-01T00:00:00Z")); !n.IsZero() {
		t.Errorf("February 30th fired at %v", n)
	}
}
