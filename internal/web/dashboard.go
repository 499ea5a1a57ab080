package web

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// Widget is one dashboard widget with its data, as the page and
// /api/v1/dashboard show it.
type Widget struct {
	Index  int    `json:"index"`
	Type   string `json:"type"`
	Title  string `json:"title"`
	X      int    `json:"x"`
	Y      int    `json:"y"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Stat   string `json:"stat,omitempty"`
	// Period is the aggregation period in seconds.
	Period int64    `json:"period,omitempty"`
	Unit   string   `json:"unit,omitempty"`
	Series []Series `json:"series,omitempty"`
	// Capacity draws a horizontal line: the compute capacity.
	Capacity *float64   `json:"capacity,omitempty"`
	Logs     []LogLine  `json:"logs,omitempty"`
	Alarms   []AlarmRow `json:"alarms,omitempty"`
	Markdown string     `json:"markdown,omitempty"`
	NoData   bool       `json:"no_data"`
}

// LogLine is an error line of the warehouse.
type LogLine struct {
	Time     time.Time `json:"time"`
	Source   string    `json:"source"`
	Severity string    `json:"severity"`
	Message  string    `json:"message"`
	Detail   string    `json:"detail,omitempty"`
}

func logLines(lines []store.LogLine) []LogLine {
	out := make([]LogLine, len(lines))
	for i, l := range lines {
		out[i] = LogLine{Time: l.Time, Source: l.Source, Severity: l.Severity, Message: l.Message, Detail: l.Detail}
	}
	return out
}

// logLimit is the seed's "latest 20 error lines".
const logLimit = 20

// dashboard computes every widget of the spec's dashboard over a range.
func (h *handler) dashboard(ctx context.Context, rng TimeRange) ([]Widget, error) {
	all, err := h.o.Store.ListSeries(ctx, "")
	if err != nil {
		return nil, err
	}
	widgets := h.o.Spec.Dashboard.Widgets
	out := make([]Widget, len(widgets))
	errs := make([]error, len(widgets))
	// Widgets are computed side by side: each is a few reads of its own.
	var wg sync.WaitGroup
	for i, w := range widgets {
		wg.Go(func() {
			wd := Widget{Index: i, Type: w.Type, Title: w.Properties.Title, X: w.X, Y: w.Y, Width: w.Width, Height: w.Height}
			var err error
			switch w.Type {
			case "metric":
				err = h.metricWidget(ctx, &wd, w, all, rng)
			case "log":
				err = h.logWidget(ctx, &wd)
			case "alarm":
				err = h.alarmWidget(ctx, &wd, w.Properties.Alarms)
			case "text":
				wd.Markdown = w.Properties.Markdown
			}
			out[i], errs[i] = wd, err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func (h *handler) metricWidget(ctx context.Context, wd *Widget, w spec.Widget, all []store.Series, rng TimeRange) error {
	period := periodFor(rng, w.Properties.Period.D())
	wd.Period = int64(period / time.Second)
	wd.Stat = w.Properties.Stat
	if wd.Stat == "" {
		wd.Stat = "Average"
	}
	for _, row := range w.Properties.Metrics {
		if row.Expression != "" {
			continue // math rows are CloudWatch's to draw
		}
		m, ok := h.o.Spec.Metric(row.MetricName)
		if !ok {
			continue
		}
		if m.Unit != "None" { // CloudWatch's word for no unit
			wd.Unit = m.Unit
		}
		if m.Source == "compute_capacity" || m.Source == "rpu_minute" {
			capacity := float64(h.o.Spec.Capacity.MaxRPU)
			wd.Capacity = &capacity
		}
		statName := wd.Stat
		if row.Options.Stat != "" {
			statName = row.Options.Stat
		}
		stat, err := alarm.ParseStatistic(statName)
		if err != nil {
			return err
		}
		matched := matchingSeries(all, m.Name, row.Dimensions)
		got := make([]Series, len(matched))
		errs := make([]error, len(matched))
		// The series are read side by side on the store's read pool.
		var wg sync.WaitGroup
		for i, se := range matched {
			wg.Go(func() {
				pts, err := seriesData(ctx, h.o.Store, se.Metric, se.Dims, rng, period, stat)
				got[i], errs[i] = Series{Label: seriesLabel(row, se), Metric: se.Metric, Dims: se.Dims, Points: pts}, err
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		wd.Series = append(wd.Series, got...)
	}
	wd.NoData = true
	for _, s := range wd.Series {
		if len(s.Points) > 0 {
			wd.NoData = false
		}
	}
	return nil
}

func (h *handler) logWidget(ctx context.Context, wd *Widget) error {
	lines, err := h.o.Store.LatestLogs(ctx, logLimit)
	if err != nil {
		return err
	}
	wd.Logs = logLines(lines)
	wd.NoData = len(wd.Logs) == 0
	return nil
}

func (h *handler) alarmWidget(ctx context.Context, wd *Widget, names []string) error {
	rows, err := h.alarmRows(ctx)
	if err != nil {
		return err
	}
	for _, r := range rows {
		for _, n := range names {
			if r.Name == n {
				wd.Alarms = append(wd.Alarms, r)
			}
		}
	}
	wd.NoData = len(wd.Alarms) == 0
	return nil
}
