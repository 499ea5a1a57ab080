package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/capacity"
	"github.com/dpc-learning/dpcops/internal/maintain"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// pageTemplate is the layout with one page's content, one per language
// (the t function bound), parsed once at start.
type pageTemplate struct{ byLang map[string]*template.Template }

func (h *handler) parseTemplates() error {
	h.pages = map[string]*pageTemplate{}
	base, err := template.New("layout.html").Funcs(template.FuncMap{
		"t":    func(string) string { return "" }, // bound per language below
		"tf":   func(string, ...any) string { return "" },
		"enum": func(v any) string { return fmt.Sprint(v) },
		// reason, phrase and advice are bound per language below.
		"reason": func(s string) string { return s },
		"phrase": func(s string) string { return s },
		"advice": func(*capacity.Report) string { return "" },
		"num":    num,
		"when":   h.when,
		"lower":  strings.ToLower,
	}).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return err
	}
	names, err := fs.Glob(assets, "templates/page_*.html")
	if err != nil {
		return err
	}
	for _, n := range names {
		pt := &pageTemplate{byLang: map[string]*template.Template{}}
		for lang, words := range labels {
			t, err := template.Must(base.Clone()).Funcs(template.FuncMap{"t": translate(words), "tf": translateFormat(words), "enum": translateEnum(enums[lang]),
				"reason": func(s string) string { return sayReason(lang, s) },
				"phrase": func(s string) string { return sayPhrases(lang, s) },
				"advice": func(r *capacity.Report) string { return sayAdvice(lang, r) }}).ParseFS(assets, n)
			if err != nil {
				return fmt.Errorf("template %s: %w", n, err)
			}
			pt.byLang[lang] = t
		}
		h.pages[strings.TrimSuffix(strings.TrimPrefix(n, "templates/page_"), ".html")] = pt
	}
	return nil
}

// num shows a figure with the precision it has, up to two decimals: a
// usage limit of 0.1 RPU-hours is 0.1, not 0.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// translateFormat looks up a phrase whose word order differs between
// languages ("after %s", "%s の後") and fills it in.
func translateFormat(words map[string]string) func(string, ...any) string {
	t := translate(words)
	return func(k string, args ...any) string { return fmt.Sprintf(t(k), args...) }
}

// translate looks a label up in one language; an unknown key shows as is.
func translate(words map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := words[k]; ok {
			return v
		}
		return k
	}
}

// when formats a time in the spec's zone; zero is "never".
func (h *handler) when(t any) string {
	var tt time.Time
	switch v := t.(type) {
	case time.Time:
		tt = v
	case *time.Time:
		if v != nil {
			tt = *v
		}
	}
	if tt.IsZero() {
		return "—"
	}
	return tt.In(h.o.Spec.Location()).Format("2006-01-02 15:04:05 MST")
}

// pageData is what every page template gets.
type pageData struct {
	Title    string
	Page     string
	Lang     string
	Platform string
	Env      string
	Engine   string
	Now      string
	// LangURL is this page in each language; TitlePlatform says whether
	// the window title adds the platform's name.
	LangURL       map[string]template.URL
	TitlePlatform bool
	// SignedIn says the browser holds a session: forms act without the
	// token, and the header offers to sign out.
	SignedIn bool
	// Path is the page's path, where signing in comes back to.
	Path string
	Data any
}

// render executes a page in the request's language. Rendering goes to a
// buffer first, so that a template error is a clean 500, not half a page.
func (h *handler) render(w http.ResponseWriter, r *http.Request, page, title string, data any) {
	h.renderStatus(w, r, http.StatusOK, page, title, data)
}

// pageCSP allows the page's own assets only, and no framing: no other
// site may lay a page (and its forms) under its own.
const pageCSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// renderStatus is render with a status other than 200.
func (h *handler) renderStatus(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	lang := language(w, r)
	pt, ok := h.pages[page]
	if !ok {
		http.Error(w, "no page "+page, http.StatusInternalServerError)
		return
	}
	t := pt.byLang[lang]
	q := r.URL.Query()
	q.Del("lang")
	pd := pageData{Title: title, Page: page, Lang: lang, Platform: h.o.Spec.Platform, Env: h.o.Spec.Environment,
		Engine: h.o.Spec.Warehouse.Engine, Now: h.when(h.o.Now()), Data: data,
		SignedIn: h.guard.signedIn(r), Path: r.URL.Path, LangURL: map[string]template.URL{},
		// A title that names the platform already (the dashboard's, as
		// the seed names it) does not say it twice.
		TitlePlatform: !strings.Contains(strings.ToLower(title), strings.ToLower(h.o.Spec.Platform))}
	for _, l := range []string{"en", "ja"} {
		q.Set("lang", l)
		pd.LangURL[l] = template.URL("?" + q.Encode())
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", pd); err != nil {
		h.o.Logger.Error("render page", "page", page, "err", err)
		http.Error(w, "could not render the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.WriteHeader(status)
	buf.WriteTo(w)
}

func (h *handler) pageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", h.pageDashboard)
	mux.HandleFunc("GET /alarms", h.pageAlarms)
	mux.HandleFunc("GET /alarms/{name}", h.pageAlarm)
	mux.HandleFunc("GET /health", h.pageHealth)
	h.incidentRoutes(mux)
	h.notificationRoutes(mux)
	h.operationsRoutes(mux)
}

// chartWidget is a widget with its chart drawn.
type chartWidget struct {
	Widget
	SVG    template.HTML
	Colors []string
	// Timelines are the compact state timelines of an alarm widget's
	// alarms over the charts' range, by alarm name.
	Timelines map[string]template.HTML
}

func (h *handler) pageDashboard(w http.ResponseWriter, r *http.Request) {
	rng, err := parseRange(r.URL.Query(), h.o.Now(), h.o.Spec.Location())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	widgets, err := h.dashboard(r.Context(), rng)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out := make([]chartWidget, len(widgets))
	from := chartStart(widgets, rng)
	say := sayEnum(r)
	notes := h.annotations(r.Context(), from, rng.To, say)
	for i, wd := range widgets {
		out[i] = chartWidget{Widget: wd}
		if wd.Type == "alarm" && h.o.Alarms != nil {
			out[i].Timelines = map[string]template.HTML{}
			for _, a := range wd.Alarms {
				if hist, err := h.o.Alarms.History(r.Context(), a.Name, 50); err == nil {
					out[i].Timelines[a.Name] = stateTimelineSVG(hist, from, rng.To, h.o.Spec.Location(), say)
				}
			}
		}
		if wd.Type == "metric" {
			out[i].SVG = chartSVG(wd.Series, from, rng.To, chartOpts{Capacity: wd.Capacity, Notes: notes}, h.o.Spec.Location())
			for j := range wd.Series {
				out[i].Colors = append(out[i].Colors, palette[j%len(palette)])
			}
		}
	}
	loc := h.o.Spec.Location()
	h.render(w, r, "dashboard", h.o.Spec.Dashboard.Name, map[string]any{
		"Widgets": out, "Range": rng.Name,
		"From": rng.From.In(loc).Format("2006-01-02T15:04"), "To": rng.To.In(loc).Format("2006-01-02T15:04"),
		"Refresh": r.URL.Query().Get("refresh"),
	})
}

// annotations are the events the dashboard's charts mark in [from, to]:
// incidents opened and closed, maintenance runs started, and pipeline
// runs started and ended (as the collector last saw them), so that a bump
// in a chart is read beside what happened then. A source that fails to
// answer marks nothing; the charts are drawn anyway.
func (h *handler) annotations(ctx context.Context, from, to time.Time, say func(any) string) []annotation {
	var out []annotation
	if h.o.Incidents != nil {
		if incs, err := h.o.Incidents.List(ctx, 200); err == nil {
			for _, inc := range incs {
				out = append(out, annotation{At: inc.Opened, Kind: "incident", Text: fmt.Sprintf("#%d %s", inc.ID, inc.Alarm)})
				if inc.Closed != nil {
					out = append(out, annotation{At: *inc.Closed, Kind: "incident", Text: fmt.Sprintf("#%d %s: OK", inc.ID, inc.Alarm)})
				}
			}
		}
	}
	if runs, err := maintain.RunsBetween(ctx, h.o.Store.Reader(), from, to); err == nil {
		for _, r := range runs {
			out = append(out, annotation{At: r.StartedAt, Kind: "maintenance", Text: strings.Join(strings.Fields(r.Job+" "+r.Action+" "+r.Target+": "+r.Outcome), " ")})
		}
	}
	if runs, err := h.o.Store.PipelineRunsBetween(ctx, from, to); err == nil {
		for _, r := range runs {
			name := r.Pipeline + " " + r.ID
			out = append(out, annotation{At: r.Started, Kind: "pipeline", Text: name + " ▶"})
			if r.Finished != nil {
				out = append(out, annotation{At: *r.Finished, Kind: "pipeline", Text: name + ": " + say(r.Status)})
			}
		}
	}
	return out
}

// chartStart is where the dashboard's charts begin: the range's start,
// or, for a preset range whose data starts later (a fresh store), the
// minute of the earliest point of any chart, so that the data fills the
// charts rather than their last few pixels. All charts share it, so that
// they line up. A custom range is drawn as asked.
func chartStart(widgets []Widget, rng TimeRange) time.Time {
	if rng.Name == "custom" {
		return rng.From
	}
	var first int64
	for _, wd := range widgets {
		for _, se := range wd.Series {
			if len(se.Points) > 0 && (first == 0 || se.Points[0].T < first) {
				first = se.Points[0].T
			}
		}
	}
	if first == 0 {
		return rng.From
	}
	start := time.UnixMilli(first).UTC().Truncate(time.Minute)
	if !start.After(rng.From) || !start.Before(rng.To) {
		return rng.From
	}
	return start
}

func (h *handler) pageAlarms(w http.ResponseWriter, r *http.Request) {
	rows, err := h.alarmRows(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h.render(w, r, "alarms", "alarms", rows)
}

// transitionView is a transition with a chart of the data around it.
type transitionView struct {
	alarm.Transition
	SVG template.HTML
}

func (h *handler) pageAlarm(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	a, ok := h.o.Spec.Alarm(name)
	if !ok {
		http.NotFound(w, r)
		return
	}
	rows, err := h.alarmRows(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	var row AlarmRow
	for _, x := range rows {
		if x.Name == name {
			row = x
		}
	}
	var views []transitionView
	if h.o.Alarms != nil {
		history, err := h.o.Alarms.History(r.Context(), name, 50)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		bands := alarmSpans(history)
		for _, t := range history {
			views = append(views, transitionView{Transition: t, SVG: h.miniChart(r, a, t.Time, bands)})
		}
	}
	// The state timeline spans the history kept (up to 50 transitions),
	// at least the last day.
	var timeline template.HTML
	if len(views) > 0 {
		to := h.o.Now()
		from := views[len(views)-1].Time.Add(-time.Hour)
		if day := to.Add(-24 * time.Hour); day.Before(from) {
			from = day
		}
		history := make([]alarm.Transition, len(views))
		for i, v := range views {
			history[i] = v.Transition
		}
		timeline = stateTimelineSVG(history, from, to, h.o.Spec.Location(), sayEnum(r))
	}
	h.render(w, r, "alarm", name, map[string]any{"Alarm": row, "History": views, "Timeline": timeline})
}

// alarmSpans are the stretches of time an alarm was in ALARM, from its
// history (newest first): from each entry into ALARM to the next
// transition, the last one open.
func alarmSpans(history []alarm.Transition) []span {
	var out []span
	for i := len(history) - 1; i >= 0; i-- {
		t := history[i]
		if i == len(history)-1 && t.From == alarm.Alarm {
			// Already in ALARM before the oldest transition kept.
			out = append(out, span{To: t.Time})
		}
		if t.To != alarm.Alarm {
			continue
		}
		sp := span{From: t.Time}
		if i > 0 {
			sp.To = history[i-1].Time
		}
		out = append(out, sp)
	}
	return out
}

// miniChart draws what the alarm compares with its threshold around a
// transition: the evaluation range before it and a little after, with the
// threshold and the ALARM periods. For a metric alarm that is its metric
// (the alarm's dimensions, else the metric's) under its statistic; for an
// expression alarm, the expression computed period by period as the engine
// computes it.
func (h *handler) miniChart(r *http.Request, a *spec.Alarm, at time.Time, bands []span) template.HTML {
	stat, err := alarm.ParseStatistic(a.Statistic)
	if err != nil {
		return ""
	}
	period := a.Period.D()
	if period <= 0 {
		return ""
	}
	rng := TimeRange{From: at.Add(-time.Duration(a.EvaluationPeriods+3) * period), To: at.Add(2 * period)}
	n := int(rng.To.Sub(rng.From) / period)
	vals, _, err := alarm.Values(h.o.Spec, a, n, func(in alarm.Input) ([]float64, error) {
		pts, err := seriesData(r.Context(), h.o.Store, in.Metric, in.Dims, rng, period, stat)
		if err != nil {
			return nil, err
		}
		out := make([]float64, n)
		for i := range out {
			out[i] = math.NaN()
		}
		for _, p := range pts {
			if i := int(time.UnixMilli(p.T).Sub(rng.From) / period); i >= 0 && i < n {
				out[i] = p.V
			}
		}
		return out, nil
	})
	if err != nil {
		return ""
	}
	label := a.Metric
	if a.Expression != "" {
		label = a.Expression
	}
	var pts []Point
	for i, v := range vals {
		if !math.IsNaN(v) {
			pts = append(pts, Point{T: rng.From.Add(time.Duration(i) * period).UnixMilli(), V: round(v)})
		}
	}
	return chartSVG([]Series{{Label: label, Points: pts}}, rng.From, rng.To,
		chartOpts{Threshold: a.Threshold, Marks: []time.Time{at}, Alarm: bands}, h.o.Spec.Location())
}

func (h *handler) pageHealth(w http.ResponseWriter, r *http.Request) {
	hs, err := h.o.Store.HealthAll(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h.render(w, r, "health", "health", map[string]any{"Collectors": hs, "Replica": h.replica()})
}
