package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
)

// palette colours series in order; chosen to read apart on white and for
// the common colour blindnesses.
var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"}

// Chart geometry, in SVG user units.
const (
	chartW, chartH         = 600.0, 190.0
	padL, padR, padT, padB = 48.0, 8.0, 8.0, 22.0
)

// chartOpts are what a chart draws besides its series.
type chartOpts struct {
	// Capacity is a horizontal line: the workgroup's RPU ceiling.
	Capacity *float64
	// Threshold is the alarm's threshold, drawn as a dashed line.
	Threshold *float64
	// Marks are vertical markers (transitions).
	Marks []time.Time
	// Alarm are the periods the alarm was in ALARM, shaded.
	Alarm []span
	// Notes are events drawn as thin vertical lines with a tooltip:
	// incidents opened and closed, maintenance runs.
	Notes []annotation
}

// annotation is an event on a chart's time axis.
type annotation struct {
	At   time.Time
	Kind string // incident or maintenance: the line's class
	Text string
}

// span is a stretch of time; a zero To runs to the chart's end.
type span struct{ From, To time.Time }

// chartSVG draws series as lines over [from, to], with what o adds: the
// alarm's threshold and its ALARM periods shaded, so that a chart explains
// an alarm at a glance. Gaps in a series (periods without data) break its
// line. The value axis has round ticks (1, 2 or 5 times a power of ten).
func chartSVG(series []Series, from, to time.Time, o chartOpts, tz *time.Location) template.HTML {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, p := range s.Points {
			lo, hi = math.Min(lo, p.V), math.Max(hi, p.V)
		}
	}
	for _, line := range []*float64{o.Capacity, o.Threshold} {
		if line != nil {
			lo, hi = math.Min(lo, *line), math.Max(hi, *line)
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 0, 1
	}
	lo = math.Min(lo, 0)
	if hi <= lo {
		hi = lo + 1
	}
	ticks := niceTicks(lo, hi)
	lo, hi = ticks[0], ticks[len(ticks)-1]
	span := float64(to.Sub(from).Milliseconds())
	x := func(ms int64) float64 { return padL + (chartW-padL-padR)*float64(ms-from.UnixMilli())/span }
	y := func(v float64) float64 { return chartH - padB - (chartH-padT-padB)*(v-lo)/(hi-lo) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" role="img">`, chartW, chartH)
	fmt.Fprintf(&b, `<line class="axis" x1="%g" y1="%g" x2="%g" y2="%g"/>`, padL, chartH-padB, chartW-padR, chartH-padB)
	for _, a := range o.Alarm {
		x1, x2 := x(max(a.From.UnixMilli(), from.UnixMilli())), chartW-padR
		if !a.To.IsZero() {
			x2 = x(min(a.To.UnixMilli(), to.UnixMilli()))
		}
		if x2 > x1 {
			fmt.Fprintf(&b, `<rect class="alarm-band" x="%.1f" y="%g" width="%.1f" height="%g"/>`,
				x1, padT, x2-x1, chartH-padT-padB)
		}
	}
	for _, v := range ticks {
		fmt.Fprintf(&b, `<text class="tick" x="%g" y="%.1f" text-anchor="end">%s</text>`, padL-4, y(v)+4, html.EscapeString(short(v)))
		fmt.Fprintf(&b, `<line class="grid" x1="%g" y1="%.1f" x2="%g" y2="%.1f"/>`, padL, y(v), chartW-padR, y(v))
	}
	layout := "15:04"
	if to.Sub(from) > 36*time.Hour {
		layout = "01/02 15:04"
	}
	fmt.Fprintf(&b, `<text class="tick" x="%g" y="%g">%s</text>`, padL, chartH-6, from.In(tz).Format(layout))
	fmt.Fprintf(&b, `<text class="tick" x="%g" y="%g" text-anchor="end">%s</text>`, chartW-padR, chartH-6, to.In(tz).Format(layout))
	if o.Capacity != nil {
		fmt.Fprintf(&b, `<line class="capacity" x1="%g" y1="%.1f" x2="%g" y2="%.1f"><title>capacity %s</title></line>`,
			padL, y(*o.Capacity), chartW-padR, y(*o.Capacity), short(*o.Capacity))
	}
	if o.Threshold != nil {
		fmt.Fprintf(&b, `<line class="threshold" x1="%g" y1="%.1f" x2="%g" y2="%.1f"><title>threshold %s</title></line>`,
			padL, y(*o.Threshold), chartW-padR, y(*o.Threshold), short(*o.Threshold))
	}
	for _, n := range o.Notes {
		if n.At.Before(from) || n.At.After(to) {
			continue
		}
		fmt.Fprintf(&b, `<line class="note note-%s" x1="%.1f" y1="%g" x2="%.1f" y2="%g"><title>%s · %s</title></line>`,
			html.EscapeString(n.Kind), x(n.At.UnixMilli()), padT, x(n.At.UnixMilli()), chartH-padB,
			n.At.In(tz).Format("01/02 15:04"), html.EscapeString(n.Text))
	}
	for _, m := range o.Marks {
		fmt.Fprintf(&b, `<line class="mark" x1="%.1f" y1="%g" x2="%.1f" y2="%g"/>`, x(m.UnixMilli()), padT, x(m.UnixMilli()), chartH-padB)
	}
	for i, s := range series {
		drawSeries(&b, s, palette[i%len(palette)], x, y, tz)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built from numbers and escaped text only
}

// maxDots is the most points a series marks with a dot (and a tooltip);
// beyond it the dots would only weigh the page down.
const maxDots = 120

// drawSeries draws one series as a path whose segments break where
// periods have no data, and, for short series, a dot per point so that a
// lone point shows.
func drawSeries(b *strings.Builder, s Series, colour string, x func(int64) float64, y func(float64) float64, tz *time.Location) {
	if len(s.Points) == 0 {
		return
	}
	gap := int64(0)
	if len(s.Points) > 1 {
		gap = 2 * minStep(s.Points)
	}
	var d strings.Builder
	for i, p := range s.Points {
		cmd := "L"
		if i == 0 || p.T-s.Points[i-1].T > gap {
			cmd = "M"
		}
		fmt.Fprintf(&d, "%s%.1f %.1f", cmd, x(p.T), y(p.V))
	}
	fmt.Fprintf(b, `<path class="series" data-label="%s" data-points="%d" stroke="%s" d="%s"/>`, html.EscapeString(s.Label), len(s.Points), colour, d.String())
	if len(s.Points) > maxDots {
		return
	}
	fmt.Fprintf(b, `<g class="points" fill="%s">`, colour)
	for _, p := range s.Points {
		// Hovering a point says when and what: the period's start in the
		// spec's zone, and the value.
		fmt.Fprintf(b, `<circle class="point" cx="%.1f" cy="%.1f" r="1.6"><title>%s · %s</title></circle>`, x(p.T), y(p.V),
			time.UnixMilli(p.T).In(tz).Format("01/02 15:04"), html.EscapeString(short(p.V)))
	}
	b.WriteString(`</g>`)
}

func minStep(pts []Point) int64 {
	step := int64(math.MaxInt64)
	for i := 1; i < len(pts); i++ {
		step = min(step, pts[i].T-pts[i-1].T)
	}
	return step
}

// short formats a value for an axis label.
func short(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return strconv.FormatFloat(v/1e9, 'f', 1, 64) + "G"
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 1, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', 1, 64) + "k"
	case a >= 100 || v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// niceTicks returns 3 to 8 round values from at most lo to at least hi,
// evenly spaced by 1, 2 or 5 times a power of ten, so that an axis reads
// 0, 5, 10, 15 rather than 8.40 and 13.84.
func niceTicks(lo, hi float64) []float64 {
	raw := (hi - lo) / 4
	exp := math.Floor(math.Log10(raw))
	m := 10.0
	for _, c := range []float64{1, 2, 5} {
		if c*math.Pow(10, exp) >= raw {
			m = c
			break
		}
	}
	// k·m·10^exp, divided rather than multiplied by a negative power, so
	// that 3 × 0.1 is 0.3, not 0.30000000000000004.
	at := func(k float64) float64 {
		if exp < 0 {
			return k * m / math.Pow(10, -exp)
		}
		return k * m * math.Pow(10, exp)
	}
	step := at(1)
	k := math.Floor(lo / step)
	var out []float64
	for ; at(k) < hi+step/2 && len(out) < 8; k++ {
		out = append(out, at(k))
	}
	if out[len(out)-1] < hi {
		out = append(out, at(k))
	}
	return out
}

// stateTimelineSVG draws an alarm's states over [from, to] as one band,
// in the manner of Grafana's state timeline: each stretch coloured by its
// state (from the history, newest first), with the state and its times
// as a tooltip. say words a state in the page's language.
func stateTimelineSVG(history []alarm.Transition, from, to time.Time, tz *time.Location, say func(any) string) template.HTML {
	const w, h = chartW, 26.0
	span := float64(to.Sub(from).Milliseconds())
	if span <= 0 || len(history) == 0 {
		return ""
	}
	// No text in it: the band stretches to the page's width, which
	// would stretch letters too; each stretch's tooltip says its times.
	x := func(t time.Time) float64 { return w * float64(t.Sub(from).Milliseconds()) / span }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="state-timeline" viewBox="0 0 %g %g" role="img" preserveAspectRatio="none">`, w, h)
	// Stretches, oldest first: before the oldest transition kept, its
	// from-state; then each transition's to-state until the next.
	oldest := history[len(history)-1]
	start, state := from, oldest.From
	layout := "01/02 15:04"
	// The current state (last) shows even when it began just now.
	draw := func(end time.Time, last bool) {
		if !end.After(from) || start.After(to) || (!last && !start.Before(to)) {
			return
		}
		s, e := start, end
		if s.Before(from) {
			s = from
		}
		if e.After(to) {
			e = to
		}
		minW := 0.5
		if last {
			minW = 3
		}
		fmt.Fprintf(&b, `<rect class="band state-%s" x="%.1f" y="2" width="%.1f" height="%g"><title>%s %s – %s</title></rect>`,
			strings.ToLower(string(state)), math.Min(x(s), w-minW), math.Max(x(e)-x(s), minW), h-4,
			html.EscapeString(say(state)), s.In(tz).Format(layout), e.In(tz).Format(layout))
	}
	for i := len(history) - 1; i >= 0; i-- {
		t := history[i]
		draw(t.Time, false)
		start, state = t.Time, t.To
	}
	draw(to, true)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built from numbers and escaped text only
}
