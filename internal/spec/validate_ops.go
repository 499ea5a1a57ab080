package spec

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// MaintenanceActions lists the maintenance job actions.
var MaintenanceActions = []string{
	ActionAnalyze, ActionVacuum, ActionVacuumFull, ActionVacuumSortOnly,
	ActionVacuumDeleteOnly, ActionAnalyzeCompression, ActionCapacityReview,
}

// CronParser parses the spec's cron expressions: five fields (minute hour
// day-of-month month day-of-week) or a descriptor such as @daily.
var CronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func (c *checker) checkMaintenance() {
	s := c.s
	c.checkWindows()
	names := make([]string, len(s.Maintenance))
	for i := range s.Maintenance {
		j := &s.Maintenance[i]
		names[i] = j.Name
		p := fmt.Sprintf("maintenance[%d]", i)
		c.required(p, "job name", j.Name)
		if !c.enum(p+".action", "maintenance action", j.Action, MaintenanceActions) {
			continue
		}
		if j.Schedule == "" && j.After == "" && j.When == nil {
			c.errorf(p, "job %s needs a schedule, an after event or a when condition", j.Name)
		}
		if j.Schedule != "" {
			if _, err := CronParser.Parse(j.Schedule); err != nil {
				c.errorf(p+".schedule", "invalid cron expression %q: %v (five fields: minute hour day-of-month month day-of-week)", j.Schedule, err)
			}
		}
		if _, err := time.LoadLocation(j.Timezone); err != nil {
			c.errorf(p+".timezone", "unknown time zone %q", j.Timezone)
		}
		if j.After != "" {
			c.enum(p+".after", "event", j.After, Events)
		}
		if j.When != nil {
			c.enum(p+".when.metric", "condition metric", j.When.Metric, ConditionMetrics)
			c.enum(p+".when.comparison", "comparison", j.When.Comparison, Comparisons)
			if (j.When.Metric == "at_max_capacity_percent") != (j.Action == ActionCapacityReview) {
				c.errorf(p+".when.metric", "at_max_capacity_percent goes with action capacity_review, and only it")
			}
		}
		c.enum(p+".mode", "mode", j.Mode, []string{"auto", "manual"})
		for k, pat := range append(slices.Clone(j.Tables), j.ExcludeTables...) {
			if _, err := path.Match(pat, ""); err != nil {
				c.errorf(fmt.Sprintf("%s.tables[%d]", p, k), "bad table pattern %q: %v", pat, err)
			}
		}
		c.engineNotes(p, j)
	}
	c.unique("maintenance", names)
}

// engineNotes warns where a job asks for what the engine cannot do.
func (c *checker) engineNotes(p string, j *Job) {
	if c.s.Warehouse.Engine != EnginePostgres {
		return
	}
	switch j.Action {
	case ActionAnalyzeCompression:
		c.warnf(p+".action", "PostgreSQL has no ANALYZE COMPRESSION: job %s will record that it has nothing to do", j.Name)
	case ActionVacuumSortOnly, ActionVacuumDeleteOnly:
		c.warnf(p+".action", "PostgreSQL has no %s: job %s runs plain VACUUM", j.Action, j.Name)
	case ActionVacuumFull:
		if !j.AllowExclusiveLock {
			c.warnf(p+".action", "on PostgreSQL VACUUM FULL locks the table exclusively; job %s runs plain VACUUM unless allow_exclusive_lock is true", j.Name)
		}
	}
}

func (c *checker) checkQMR() {
	names := make([]string, len(c.s.QMR))
	for i, r := range c.s.QMR {
		names[i] = r.Name
		p := fmt.Sprintf("qmr[%d]", i)
		c.required(p, "rule name", r.Name)
		c.enum(p+".metric", "QMR metric", r.Metric, []string{"execution_time", "queue_time"})
		if r.Threshold <= 0 {
			c.errorf(p+".threshold", "threshold must be a positive number of seconds")
		}
		c.enum(p+".action", "QMR action", r.Action, []string{"log", "notify", "abort"})
		if r.Action == "notify" && len(r.Topics) == 0 {
			c.errorf(p, "rule %s notifies but names no topics", r.Name)
		}
		for j, t := range r.Topics {
			if _, ok := c.s.Topic(t); !ok {
				c.errorf(fmt.Sprintf("%s.topics[%d]", p, j), "rule %s names topic %q, which is not defined in topics", r.Name, t)
			}
		}
	}
	c.unique("qmr", names)
}

func (c *checker) checkDashboard() {
	for i := range c.s.Dashboard.Widgets {
		w := &c.s.Dashboard.Widgets[i]
		p := fmt.Sprintf("dashboard.widgets[%d]", i)
		if !c.enum(p+".type", "widget type", w.Type, WidgetTypes) {
			continue
		}
		c.checkGrid(p, w)
		pp := p + ".properties"
		switch w.Type {
		case "metric":
			if len(w.Properties.Metrics) == 0 {
				c.errorf(pp, "a metric widget needs properties.metrics")
			}
			c.checkRows(pp+".metrics", w.Properties.Metrics)
			if w.Properties.Stat != "" && !ValidStatistic(w.Properties.Stat) {
				c.errorf(pp+".stat", "unknown statistic %q", w.Properties.Stat)
			}
		case "log":
			c.required(pp, "a log widget's properties.query", w.Properties.Query)
		case "text":
			c.required(pp, "a text widget's properties.markdown", w.Properties.Markdown)
		case "alarm":
			if len(w.Properties.Alarms) == 0 {
				c.errorf(pp, "an alarm widget needs properties.alarms")
			}
			for j, a := range w.Properties.Alarms {
				if _, ok := c.s.Alarm(a); !ok {
					c.errorf(fmt.Sprintf("%s.alarms[%d]", pp, j), "widget names alarm %q, which is not defined in alarms", a)
				}
			}
		}
	}
}

// checkGrid checks a widget's place on CloudWatch's 24-column grid.
func (c *checker) checkGrid(p string, w *Widget) {
	if w.X < 0 || w.X > 23 {
		c.errorf(p+".x", "x must be 0 to 23 (the grid has 24 columns), got %d", w.X)
	}
	if w.Y < 0 {
		c.errorf(p+".y", "y must not be negative")
	}
	if w.Width < 1 || w.Width > 24 || w.X+w.Width > 24 {
		c.errorf(p+".width", "width must be 1 to 24 and x + width at most 24, got x=%d width=%d", w.X, w.Width)
	}
	if w.Height < 1 || w.Height > 1000 {
		c.errorf(p+".height", "height must be 1 to 1000, got %d", w.Height)
	}
}

// checkRows resolves each metric row to a spec metric, and each expression
// row's names to spec metrics or to the ids of other rows.
func (c *checker) checkRows(path string, rows MetricRows) {
	var ids []string
	for _, r := range rows {
		if r.Options.ID != "" {
			ids = append(ids, r.Options.ID)
		}
	}
	for i, r := range rows {
		p := fmt.Sprintf("%s[%d]", path, i)
		if r.Expression != "" {
			c.checkExpression(p, r.Expression, ids)
			continue
		}
		if r.Options.Stat != "" && !ValidStatistic(r.Options.Stat) {
			c.errorf(p, "unknown statistic %q", r.Options.Stat)
		}
		if m, ok := c.s.Metric(r.MetricName); !ok {
			c.errorf(p, "widget names metric %s %s, which is not defined in metrics%s", r.Namespace, r.MetricName, suggest(r.MetricName, c.metricNames()))
		} else if m.Namespace != r.Namespace {
			c.errorf(p, "widget names metric %s in namespace %s, but metrics defines it in %s", r.MetricName, r.Namespace, m.Namespace)
		}
	}
}

func (c *checker) checkServe() {
	if _, _, err := net.SplitHostPort(c.s.Serve.Listen); err != nil {
		c.errorf("serve.listen", "listen must be host:port, got %q", c.s.Serve.Listen)
	}
	if tok := c.s.Serve.Token; tok.IsSet() && len(tok.Reveal()) < minToken {
		c.errorf("serve.token", "token must be at least %d characters (it guards every action; e.g. openssl rand -base64 32)", minToken)
	}
	if u := c.s.Serve.ExternalURL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			c.errorf("serve.external_url", "external_url must be an http:// or https:// address, got %q", u)
		}
	}
	for i, h := range c.s.Serve.AllowedHosts {
		if !hostNameRE.MatchString(h) {
			c.errorf(fmt.Sprintf("serve.allowed_hosts[%d]", i), "allowed_hosts takes host names only (no scheme, port or path), such as dpcops.example.org, got %q", h)
		}
	}
}

// minToken is the shortest serve.token accepted: sign-in and the bearer
// check are not rate-limited, so the token must be long enough not to be
// guessed.
const minToken = 16

// hostNameRE is a DNS host name: dot-separated labels of letters, digits
// and hyphens.
var hostNameRE = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$`)

// MaxWindow is the longest a maintenance window may last.
const MaxWindow = 7 * 24 * time.Hour

// checkWindows refuses maintenance windows that could not work: a cron or
// zone that does not parse, no duration or one over MaxWindow, a window
// that overlaps its own next opening, alarms the spec lacks; and warns of
// two windows that hold back the same alarm at the same time.
func (c *checker) checkWindows() {
	seen := map[string]bool{}
	type opening struct{ from, to time.Time }
	openings := make([][]opening, len(c.s.Windows))
	for i, w := range c.s.Windows {
		p := fmt.Sprintf("maintenance_windows[%d]", i)
		c.required(p, "window name", w.Name)
		if seen[w.Name] {
			c.errorf(p+".name", "window name %q repeated", w.Name)
		}
		seen[w.Name] = true
		loc, err := time.LoadLocation(w.Timezone)
		if err != nil {
			c.errorf(p+".timezone", "unknown time zone %q", w.Timezone)
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(w.Schedule), "@every") {
			c.errorf(p+".schedule", "a window opens at times of day: write a five-field cron expression, not %q", w.Schedule)
			continue
		}
		sched, err := CronParser.Parse(w.Schedule)
		if err != nil {
			c.errorf(p+".schedule", "invalid cron expression %q: %v (five fields: minute hour day-of-month month day-of-week)", w.Schedule, err)
			continue
		}
		d := w.Duration.D()
		if d <= 0 || d > MaxWindow {
			c.errorf(p+".duration", "a window lasts more than 0 and at most %s, got %s", MaxWindow, w.Duration)
			continue
		}
		c.checkAlarmNames(p+".alarms", "window "+w.Name, w.Alarms)
		// A year of openings from a fixed start, on the zone's clock.
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
		for range 2000 {
			next := sched.Next(at)
			if next.IsZero() || next.Year() > 2027 {
				break
			}
			if n := len(openings[i]); n > 0 && next.Before(openings[i][n-1].to) {
				c.errorf(p+".duration", "window %s opens again %s after it opened and lasts %s: it would overlap itself", w.Name, next.Sub(openings[i][n-1].from), w.Duration)
				openings[i] = nil
				break
			}
			openings[i] = append(openings[i], opening{next, next.Add(d)})
			at = next
		}
	}
	for i := range c.s.Windows {
		for j := i + 1; j < len(c.s.Windows); j++ {
			a, b := c.s.Windows[i], c.s.Windows[j]
			var shared []string
			for _, name := range AlarmsMatching(c.s, a.Alarms...) {
				if slices.Contains(AlarmsMatching(c.s, b.Alarms...), name) {
					shared = append(shared, name)
				}
			}
			if len(shared) == 0 {
				continue
			}
			for _, x := range openings[i] {
				if k := slices.IndexFunc(openings[j], func(y opening) bool { return x.from.Before(y.to) && y.from.Before(x.to) }); k >= 0 {
					c.warnf(fmt.Sprintf("maintenance_windows[%d]", j), "windows %s and %s overlap (from %s) and both hold back %s: one of them is enough", a.Name, b.Name,
						openings[j][k].from.Format("2006-01-02 15:04 MST"), strings.Join(shared, ", "))
					break
				}
			}
		}
	}
	for i, j := range c.s.Maintenance {
		if len(j.Silence) > 0 {
			c.checkAlarmNames(fmt.Sprintf("maintenance[%d].silence", i), "job "+j.Name, j.Silence)
		}
	}
	if l := c.s.Capacity.Lease; l != nil && len(l.Silence) > 0 {
		c.checkAlarmNames("capacity.lease.silence", "the capacity lease", l.Silence)
	}
}

// checkAlarmNames requires each name or glob to name an alarm.
func (c *checker) checkAlarmNames(path, item string, names []string) {
	if len(names) == 0 {
		c.errorf(path, "%s names no alarm to hold back", item)
	}
	var known []string
	for _, a := range c.s.Alarms {
		known = append(known, a.Name)
	}
	for k, n := range names {
		if len(AlarmsMatching(c.s, n)) == 0 {
			c.errorf(fmt.Sprintf("%s[%d]", path, k), "%s: %q matches no alarm of the spec (its alarms: %s)", item, n, strings.Join(known, ", "))
		}
	}
}
