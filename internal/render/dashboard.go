package render

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/metricmath"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// defaultWidgetPeriod is CloudWatch's period for a widget that sets none.
const defaultWidgetPeriod = 300

var dashboardNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// sourceRE matches the SOURCE clause that opens a Logs Insights query.
var sourceRE = regexp.MustCompile(`^\s*SOURCE\s+'([^']*)'\s*\|?\s*`)

// planDashboard builds the CloudWatch dashboard body from the spec's
// widgets.
func (r *renderer) planDashboard() {
	d := r.s.Dashboard
	if !dashboardNameRE.MatchString(d.Name) {
		r.ps.add("dashboard.name", "dashboard "+d.Name, "CloudWatch dashboard names are 1 to 255 letters, digits, '-' and '_'")
	}
	widgets := list{}
	for i := range d.Widgets {
		if w, ok := r.widget(&d.Widgets[i], fmt.Sprintf("dashboard.widgets[%d]", i)); ok {
			widgets = append(widgets, w)
		}
	}
	r.dashboard = obj{{"widgets", widgets}}
}

func (r *renderer) widget(w *spec.Widget, path string) (obj, bool) {
	item := fmt.Sprintf("widget %q", w.Properties.Title)
	props := obj{}
	if w.Properties.Title != "" && w.Type != "text" {
		props = append(props, field{"title", lit(w.Properties.Title)})
	}
	ok := true
	switch w.Type {
	case "metric":
		props, ok = r.metricProps(w, props, path, item)
	case "log":
		props, ok = r.logProps(w, props, path, item)
	case "text":
		props = append(props, field{"markdown", lit(w.Properties.Markdown)})
	case "alarm":
		props, ok = r.alarmProps(w, props, path, item)
	}
	return obj{
		{"type", lit(w.Type)},
		{"x", num(w.X)}, {"y", num(w.Y)}, {"width", num(w.Width)}, {"height", num(w.Height)},
		{"properties", props},
	}, ok
}

// region returns the widget's region, else the spec's; as var.region when
// it is the spec's, so that the module's variable moves it.
func (r *renderer) region(w *spec.Widget, path, item string) (str, bool) {
	reg := w.Properties.Region
	if reg == "" {
		reg = r.s.AWS.Region
	}
	switch {
	case reg == "":
		r.ps.add(path+".properties", item, "metric and log widgets need a region: set aws.region or the widget's properties.region")
		return nil, false
	case reg == r.s.AWS.Region:
		return ref("var.region", reg), true
	}
	return lit(reg), true
}

func (r *renderer) metricProps(w *spec.Widget, props obj, path, item string) (obj, bool) {
	p := w.Properties
	reg, ok := r.region(w, path, item)
	if !ok {
		return props, false
	}
	view := p.View
	if view == "" {
		view = "timeSeries"
	}
	props = append(props, field{"view", lit(view)})
	if p.Stacked {
		props = append(props, field{"stacked", boolean(true)})
	}
	stat := p.Stat
	if stat == "" {
		stat = "Average"
	}
	period := p.Period.Seconds()
	if period == 0 {
		period = defaultWidgetPeriod
	}
	props = append(props, field{"region", reg}, field{"stat", lit(stat)}, field{"period", num(period)})
	rows, ok := r.rows(p.Metrics, stat, period, path+".properties.metrics", item)
	return append(props, field{"metrics", rows}), ok
}

// rowIDs hands out ids for rows the renderer adds, avoiding the spec's.
type rowIDs struct {
	taken map[string]bool
	n     int
}

func (ids *rowIDs) next() string {
	for {
		ids.n++
		id := "r" + strconv.Itoa(ids.n)
		if !ids.taken[id] {
			ids.taken[id] = true
			return id
		}
	}
}

func (r *renderer) rows(rows spec.MetricRows, stat string, period int64, path, item string) (list, bool) {
	ids := &rowIDs{taken: map[string]bool{}}
	for _, row := range rows {
		if row.Options.ID != "" {
			ids.taken[row.Options.ID] = true
		}
	}
	out := list{}
	ok := true
	for i, row := range rows {
		p := fmt.Sprintf("%s[%d]", path, i)
		if row.Expression != "" {
			e, extra, good := r.exprRow(row.Expression, ids, stat, period, p, item)
			row.Expression, ok = e, ok && good
			out = append(append(out, extra...), list{rowOptions(row, obj{{"expression", lit(row.Expression)}})})
			continue
		}
		m, found := r.s.Metric(row.MetricName)
		if !found {
			r.ps.add(p, item, "row names metric %s, which is not a spec metric", row.MetricName)
			ok = false
			continue
		}
		se, good := r.resolve(m, row.Dimensions, p, item)
		if !good {
			ok = false
			continue
		}
		if err := checkQueryValues(se); se.kind != plainSeries && err != nil {
			r.ps.add(p, item, "%v", err)
			ok = false
			continue
		}
		r.track(se)
		out = append(out, r.metricRow(se, row, stat, period, ids))
	}
	return out, ok
}

// metricRow renders one row: [Namespace, MetricName, Dim, Value, ...,
// {options}], or a SEARCH expression for a metric AWS publishes only per
// QueryType.
func (r *renderer) metricRow(se series, row spec.MetricRow, stat string, period int64, ids *rowIDs) list {
	if se.kind != plainSeries {
		s, p := stat, period
		if row.Options.Stat != "" {
			s = row.Options.Stat
		}
		if row.Options.Period != 0 {
			p = row.Options.Period.Seconds()
		}
		if row.Options.ID == "" {
			row.Options.ID = ids.next()
		}
		if row.Options.Label == "" {
			row.Options.Label = se.specName
		}
		row.Options.Stat, row.Options.Period = "", 0
		return list{rowOptions(row, obj{{"expression", r.searchExpr(se, s, p)}})}
	}
	out := list{lit(se.namespace), lit(se.metric)}
	for _, d := range se.dims {
		out = append(out, lit(d.name), d.value)
	}
	if opts := rowOptions(row, obj{}); len(opts) > 0 {
		out = append(out, opts)
	}
	return out
}

// exprRow rewrites a math row's expression over row ids: a spec metric
// it names directly becomes a hidden row of its own.
func (r *renderer) exprRow(e string, ids *rowIDs, stat string, period int64, path, item string) (string, list, bool) {
	n, err := metricmath.Parse(e)
	if err != nil {
		r.ps.add(path, item, "expression %q: %v", e, err)
		return e, nil, false
	}
	var extra list
	names := map[string]string{}
	for _, name := range metricmath.Refs(n) {
		m, isMetric := r.s.Metric(name)
		if ids.taken[name] || !isMetric {
			names[name] = name
			continue
		}
		se, ok := r.resolve(m, nil, path, item)
		if !ok {
			return e, nil, false
		}
		r.track(se)
		hidden := false
		row := spec.MetricRow{Options: spec.RowOptions{ID: ids.next(), Visible: &hidden}}
		names[name] = row.Options.ID
		extra = append(extra, r.metricRow(se, row, stat, period, ids))
	}
	return metricmath.Rename(unwrapSingle(n), func(s string) string { return names[s] }).String(), extra, true
}

// rowOptions appends a row's rendering options to o.
func rowOptions(row spec.MetricRow, o obj) obj {
	op := row.Options
	add := func(k, v string) {
		if v != "" {
			o = append(o, field{k, lit(v)})
		}
	}
	add("id", op.ID)
	add("label", op.Label)
	add("stat", op.Stat)
	if op.Period != 0 {
		o = append(o, field{"period", num(op.Period.Seconds())})
	}
	add("color", op.Color)
	add("yAxis", op.YAxis)
	if op.Visible != nil {
		o = append(o, field{"visible", boolean(*op.Visible)})
	}
	return o
}

// logProps points a log widget at a real log group. A query without
// SOURCE, or with the seed's invented /aws/redshift-serverless/ group,
// reads the error events dpcops writes (/dpcops/<platform>/errors, the
// module's group): failed queries and rejected COPY rows, which no log of
// Redshift's own holds.
func (r *renderer) logProps(w *spec.Widget, props obj, path, item string) (obj, bool) {
	reg, ok := r.region(w, path, item)
	if !ok {
		return props, false
	}
	q := w.Properties.Query
	errorsGroup := collect.ErrorLogGroup(r.s.Platform)
	// source is the group the query reads, as the spec names it.
	source := errorsGroup
	var query str
	if m := sourceRE.FindStringSubmatch(q); m != nil && !strings.HasPrefix(m[1], "/aws/redshift-serverless/") {
		switch m[1] {
		case errorsGroup:
			query = cat(lit("SOURCE '"), ref("aws_cloudwatch_log_group.errors.name", errorsGroup), lit("' | "+q[len(m[0]):]))
		case r.s.Warehouse.LogGroup:
			query, source = cat(lit("SOURCE '"), r.logGroup(), lit("' | "+q[len(m[0]):])), m[1]
		default:
			query, source = lit(q), m[1]
		}
	} else {
		if m != nil {
			q = q[len(m[0]):]
		}
		query = cat(lit("SOURCE '"), ref("aws_cloudwatch_log_group.errors.name", errorsGroup), lit("' | "+q))
	}
	view := w.Properties.View
	if view == "" {
		view = "table"
	}
	if userActivityLogRE.MatchString(source) {
		props = withTitleNote(props, w.Properties.Title, userActivityNote)
	}
	return append(props, field{"region", reg}, field{"view", lit(view)}, field{"query", query}), true
}

// userActivityLogRE matches the user activity log Redshift Serverless
// exports for a namespace.
var userActivityLogRE = regexp.MustCompile(`^/aws/redshift/[^/]+/useractivitylog$`)

// userActivityNote is added to the title of a log widget that reads a user
// activity log. Redshift writes each statement there before it runs, so
// its lines are query texts: a widget titled "Latest errors" that filters
// them for ERROR shows statements that mention ERROR, not failed queries
// or rejected COPY rows, and its title must not say otherwise.
const userActivityNote = "user activity log: statements as submitted, not failed queries"

// withTitleNote sets the widget's title to title (note), or to the note
// alone when the widget has no title.
func withTitleNote(props obj, title, note string) obj {
	t := note
	if title != "" {
		t = title + " (" + note + ")"
	}
	for i, f := range props {
		if f.key == "title" {
			props[i].v = lit(t)
			return props
		}
	}
	return append(obj{{"title", lit(t)}}, props...)
}

// logGroup returns warehouse.log_group, written with var.namespace_name
// when it is the default group of the spec's namespace.
func (r *renderer) logGroup() str {
	w := r.s.Warehouse
	switch {
	case w.LogGroup == "":
		return nil
	case w.Namespace != "" && w.LogGroup == "/aws/redshift/"+w.Namespace+"/useractivitylog":
		return cat(lit("/aws/redshift/"), ref("var.namespace_name", w.Namespace), lit("/useractivitylog"))
	}
	return lit(w.LogGroup)
}

func (r *renderer) alarmProps(w *spec.Widget, props obj, path, item string) (obj, bool) {
	arns := list{}
	for j, name := range w.Properties.Alarms {
		a := r.alarmDef(name)
		if a == nil {
			r.ps.add(fmt.Sprintf("%s.properties.alarms[%d]", path, j), item, "alarm %s is not rendered (it is off or cannot be expressed)", name)
			return props, false
		}
		arn := fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", r.s.AWS.Region, r.s.AWS.AccountID, name)
		arns = append(arns, ref(a.ref()+".arn", arn))
	}
	return append(props, field{"alarms", arns}), true
}

func (r *renderer) alarmDef(name string) *alarmDef {
	for _, a := range r.alarms {
		if a.name == name {
			return a
		}
	}
	return nil
}
