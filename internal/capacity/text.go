package capacity

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer, loc *time.Location) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Capacity report %s (%s), as of %s — %s, unit: %s\n", r.Month, loc, r.AsOf.In(loc).Format("2006-01-02 15:04 MST"), r.Engine, r.Unit)
	fmt.Fprintf(&b, "Source: %s\n\n", r.Source)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Use to date\t%.1f RPU-hours (charged %.1f)\tcost %.2f\n", r.RPUHours, r.ChargedRPUHours, r.Cost)
	fmt.Fprintf(tw, "Forecast to month end\t%.1f RPU-hours\tcost %.2f\n", r.ForecastRPUHours, r.ForecastCost)
	if l := r.Limit; l != nil {
		fmt.Fprintf(tw, "Usage limit\t%.0f RPU-hours %s\t%.1f %% used, %.1f %% forecast\n", l.RPUHours, l.Period, l.UsedPercent, l.ForecastPercent)
		fmt.Fprintf(tw, "\tnotice at %.0f %%: %s\tlimit: %s\n", l.NotifyAtPercent, when(l.NoticeAt, l.UsedPercent >= l.NotifyAtPercent, loc), when(l.ReachedAt, l.UsedPercent >= 100, loc))
	}
	fmt.Fprintf(tw, "Busy time\t%.1f h\tat max_rpu %d: %.1f %% of it; peak %.0f\n", r.BusyHours, r.MaxRPU, r.AtMaxPercent, r.PeakRPU)
	if q := r.Queueing; q != nil {
		fmt.Fprintf(tw, "Queueing\t%s\n", q.describe())
	}
	tw.Flush()
	b.WriteString("\nOther max values (serverless bills RPU-seconds: the same work costs the same at a lower max, it only takes longer):\n")
	tw = tabwriter.NewWriter(&b, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "max_rpu\tat cap\tspilled RPU-h\tdelay h\tcost\tmax cost/h\t")
	for _, sc := range r.Scenarios {
		atCap := "unknown"
		if sc.AtCapPercent >= 0 {
			atCap = fmt.Sprintf("%.1f %%", sc.AtCapPercent)
		}
		cost := fmt.Sprintf("%.2f", sc.CostLow)
		if sc.CostHigh != sc.CostLow {
			cost += fmt.Sprintf("–%.2f", sc.CostHigh)
		}
		mark := ""
		if sc.MaxRPU == r.MaxRPU {
			mark = " (now)"
		}
		fmt.Fprintf(tw, "%d%s\t%s\t%.1f\t%.2f\t%s\t%.2f\t\n", sc.MaxRPU, mark, atCap, sc.SpilledRPUHours, sc.DelayHours, cost, sc.MaxCostPerHour)
	}
	tw.Flush()
	r.Leases.writeText(&b, loc)
	fmt.Fprintf(&b, "\nAdvice (%s): %s\n", r.Advice.Verdict, r.Advice.Text)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func when(t *time.Time, already bool, loc *time.Location) string {
	switch {
	case already:
		return "reached"
	case t == nil:
		return "not this month at the recent rate"
	}
	return "forecast " + t.In(loc).Format("2006-01-02 15:04")
}

func (q *Queueing) describe() string {
	switch q.Source {
	case "QueriesQueued":
		return fmt.Sprintf("QueriesQueued > 0 in %.1f %% of samples, at most %.0f at once", q.QueuedSamplesPercent, q.MaxQueued)
	case "none":
		return "not measured: " + q.Note
	}
	return fmt.Sprintf("%d of %d queries queued (%.1f %%), %.2f h in all, longest %.0f s (%s)",
		q.Queued, q.Queries, q.QueuedPercent, q.QueueHours, q.MaxQueueSeconds, q.Source)
}

func (l *Leases) writeText(b *strings.Builder, loc *time.Location) {
	if l == nil {
		return
	}
	fmt.Fprintf(b, "\nCapacity leases (%d → %d RPU): %d this month, %.1f h at the raised max, %.1f RPU-hours used during them (cost %.2f)\n",
		l.NormalMaxRPU, l.BatchMaxRPU, l.Count, l.RaisedHours, l.RPUHours, l.Cost)
	fmt.Fprintf(b, "Outside leases use was at %d RPU for %.1f %% of busy time. Keeping %d RPU always: up to %.2f more this month for the same use, and an hour could cost %.2f instead of %.2f.\n",
		l.NormalMaxRPU, l.OutsideAtNormalMaxPercent, l.BatchMaxRPU, l.AlwaysBatchExtraCostHigh, l.ExposurePerHourBatch, l.ExposurePerHourNormal)
	if len(l.List) == 0 {
		return
	}
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "lease\tpipeline\tRPU\tfrom\tto\thours\tRPU-h\tclosed")
	for _, x := range l.List {
		closed := "open"
		if !x.Open {
			closed = x.CloseReason
		}
		pipeline := x.Pipeline
		if pipeline == "" {
			pipeline = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%.2f\t%.2f\t%s\n", x.ID, pipeline, x.RaisedTo,
			x.From.In(loc).Format("01-02 15:04"), x.To.In(loc).Format("01-02 15:04"), x.Hours, x.RPUHours, closed)
	}
	tw.Flush()
}
