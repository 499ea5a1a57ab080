package render

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
)

// scheduleDef is an EventBridge Scheduler schedule for one maintenance job.
type scheduleDef struct {
	job, id, name  string
	cron, expr, tz string
}

// planMaintenance converts the schedules of the enabled automatic jobs.
// Manual jobs run only when someone asks, so they get no schedule.
func (r *renderer) planMaintenance() {
	for i, j := range r.s.Maintenance {
		if j.Schedule == "" {
			if j.Enabled.On() && j.Mode != "manual" {
				r.note("maintenance job %s runs after an event or on a condition that dpcops watches: no schedule.", j.Name)
			}
			continue
		}
		item := "maintenance job " + j.Name
		path := fmt.Sprintf("maintenance[%d]", i)
		switch {
		case !j.Enabled.On():
			r.note("maintenance job %s is off (%s): no schedule.", j.Name, j.Enabled.Reason())
			continue
		case j.Mode == "manual":
			r.note("maintenance job %s is manual: dpcops plans it, and it runs only when asked, so it has no schedule.", j.Name)
			continue
		}
		tz, expr := cronZone(j.Schedule, j.Timezone)
		e, err := eventBridgeCron(expr)
		if err != nil {
			r.ps.add(path+".schedule", item, "schedule %q cannot be an EventBridge Scheduler cron expression: %v", j.Schedule, err)
			continue
		}
		name := awsName(r.s.Platform + "-" + j.Name)
		if len(name) > maxScheduleName {
			r.ps.add(path+".name", item, "the schedule name %s is longer than EventBridge Scheduler's %d characters", name, maxScheduleName)
			continue
		}
		r.schedules = append(r.schedules, &scheduleDef{job: j.Name, id: r.schedIDs.name(j.Name), name: name, cron: j.Schedule, expr: e, tz: tz})
	}
}

// cronZone splits a "TZ=Zone " or "CRON_TZ=Zone " prefix off a schedule,
// as the scheduler reads it: that zone replaces the job's.
func cronZone(schedule, jobZone string) (zone, expr string) {
	schedule = strings.TrimSpace(schedule)
	for _, p := range []string{"TZ=", "CRON_TZ="} {
		if rest, ok := strings.CutPrefix(schedule, p); ok {
			zone, expr, _ = strings.Cut(rest, " ")
			return zone, strings.TrimSpace(expr)
		}
	}
	return jobZone, schedule
}

// writeMaintenance writes maintenance.tf.
func (r *renderer) writeMaintenance(body *hclwrite.Body) {
	for i, sc := range r.schedules {
		if i > 0 {
			body.AppendNewline()
		}
		comment(body, fmt.Sprintf("Job %s: %q in %s. The target runs `dpcops maintenance run --job` with the job named in its input.", sc.job, sc.cron, sc.tz))
		b := body.AppendNewBlock("resource", []string{"aws_scheduler_schedule", sc.id}).Body()
		set(b, "name", lit(sc.name))
		set(b, "schedule_expression", lit(sc.expr))
		set(b, "schedule_expression_timezone", lit(sc.tz))
		w := b.AppendNewBlock("flexible_time_window", nil).Body()
		set(w, "mode", lit("OFF"))
		t := b.AppendNewBlock("target", nil).Body()
		set(t, "arn", expr("var.maintenance_target_arn"))
		set(t, "role_arn", expr("var.maintenance_role_arn"))
		set(t, "input", call{"jsonencode", []val{obj{{"job", lit(sc.job)}}}})
	}
}
