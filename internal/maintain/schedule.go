package maintain

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// Schedule is a job's cron expression read on the wall clock of a time
// zone.
//
// Daylight saving time is handled on purpose, not by accident of the
// arithmetic:
//
//   - A local time that does not exist (the hour skipped when clocks go
//     forward) fires once, at the first instant after the gap: a job at
//     02:30 in America/New_York on the spring-forward day runs at 03:00
//     EDT. Several times inside one gap collapse into that one run.
//   - A local time that exists twice (the hour repeated when clocks go
//     back) fires once, at its first occurrence (daylight time): a job at
//     01:30 in America/New_York on the fall-back day runs at 01:30 EDT and
//     not again at 01:30 EST. This holds for every expression, including
//     ones that fire every few minutes: the second pass of the repeated
//     hour has no firings.
//
// Every other local time fires exactly once. A zone without daylight saving
// (Asia/Tokyo) has neither case. "@every DURATION" fires at fixed intervals
// of real time and ignores the wall clock.
type Schedule struct {
	expr string
	loc  *time.Location
	// wall reads the expression on naive wall-clock times (UTC stands for
	// "no zone"), in which every local time exists exactly once.
	wall  *cron.SpecSchedule
	every cron.Schedule
}

// maxSteps bounds the search for the next firing (an expression that can
// never fire, such as February 30th, gives up rather than loop).
const maxSteps = 100000

// ParseSchedule reads a cron expression (five fields, or a descriptor such
// as @daily or @every 1h) in the time zone loc. A "TZ=Zone " prefix in the
// expression overrides loc.
func ParseSchedule(expr string, loc *time.Location) (*Schedule, error) {
	if loc == nil {
		return nil, fmt.Errorf("cron %q: no time zone", expr)
	}
	parsed, err := spec.CronParser.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("invalid cron expression %q: %w", expr, err)
	}
	s := &Schedule{expr: expr, loc: loc}
	switch p := parsed.(type) {
	case *cron.SpecSchedule:
		if p.Location != time.Local {
			s.loc = p.Location
		}
		w := *p
		w.Location = time.UTC
		s.wall = &w
	default:
		s.every = p
	}
	return s, nil
}

// String returns the expression and its zone.
func (s *Schedule) String() string { return s.expr + " (" + s.loc.String() + ")" }

// Location is the zone the expression is read in.
func (s *Schedule) Location() *time.Location { return s.loc }

// Next returns the first firing strictly after t, or the zero time if the
// expression never fires.
func (s *Schedule) Next(t time.Time) time.Time {
	if s.every != nil {
		return s.every.Next(t)
	}
	n := wallClock(t, s.loc)
	for i := 0; i < maxSteps; i++ {
		n = s.wall.Next(n)
		if n.IsZero() {
			return time.Time{}
		}
		if at := s.instant(n); at.After(t) {
			return at
		}
	}
	return time.Time{}
}

// Last returns the latest firing in (from, to] and how many firings that
// interval holds (counting stops at maxSteps). ok is false when it holds
// none.
func (s *Schedule) Last(from, to time.Time) (last time.Time, count int, ok bool) {
	for t := from; count < maxSteps; count++ {
		next := s.Next(t)
		if next.IsZero() || next.After(to) {
			break
		}
		last, t = next, next
	}
	return last, count, count > 0
}

// wallClock returns t's local date and time in loc as a naive time (in
// UTC), to the second.
func wallClock(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
}

// instant maps a naive wall-clock time to the instant it fires at: the
// only instant with that local time; the earlier of two in a repeated
// hour; the end of the gap for a time the clocks skipped.
func (s *Schedule) instant(n time.Time) time.Time {
	var first time.Time
	for _, probe := range []time.Time{n.Add(-24 * time.Hour), n, n.Add(24 * time.Hour)} {
		c := n.Add(-offset(probe, s.loc)).In(s.loc)
		if wallClock(c, s.loc).Equal(n) && (first.IsZero() || c.Before(first)) {
			first = c
		}
	}
	if !first.IsZero() {
		return first
	}
	// In a gap: read n with the offset in force before it, which lands
	// after the transition; the zone that starts there starts at the gap's
	// end.
	c := n.Add(-offset(n.Add(-24*time.Hour), s.loc)).In(s.loc)
	start, _ := c.ZoneBounds()
	if start.IsZero() {
		return c
	}
	return start.In(s.loc)
}

// offset is loc's UTC offset at the instant t.
func offset(t time.Time, loc *time.Location) time.Duration {
	_, off := t.In(loc).Zone()
	return time.Duration(off) * time.Second
}
