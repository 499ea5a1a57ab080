package render

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// windowDef is a maintenance window in the CloudWatch form: a schedule
// that disables the alarms' actions at its opening, and one that enables
// them again at its end.
type windowDef struct {
	name, id          string
	openCron, endCron string
	tz                string
	alarms            []*alarmDef
}

// planWindows renders each maintenance window whose end can be written as
// a cron expression: its opening's minute and hour fixed, days of the
// month and months open (days of the week may be named). The others, and
// jobs' own windows, are notes: never dropped silently.
func (r *renderer) planWindows() {
	byName := map[string]*alarmDef{}
	for _, a := range r.alarms {
		byName[a.name] = a
	}
	for i, w := range r.s.Windows {
		item, path := "maintenance window "+w.Name, fmt.Sprintf("maintenance_windows[%d]", i)
		d := &windowDef{name: w.Name, id: r.schedIDs.name("window-" + w.Name), tz: w.Timezone}
		for _, name := range spec.AlarmsMatching(r.s, w.Alarms...) {
			if a, ok := byName[name]; ok {
				d.alarms = append(d.alarms, a)
			}
		}
		if len(d.alarms) == 0 {
			r.note("maintenance window %s holds back no rendered alarm: no schedule.", w.Name)
			continue
		}
		end, err := shiftCron(w.Schedule, int(w.Duration.D().Minutes()))
		if err == nil {
			if d.openCron, err = eventBridgeCron(w.Schedule); err == nil {
				d.endCron, err = eventBridgeCron(end)
			}
		}
		if err != nil {
			r.note("%s is held by the running dpcops only: %v.", item, err)
			continue
		}
		if name := awsName(r.s.Platform + "-window-" + w.Name + "-end"); len(name) > maxScheduleName {
			r.ps.add(path+".name", item, "the schedule name %s is longer than EventBridge Scheduler's %d characters", name, maxScheduleName)
			continue
		}
		r.windows = append(r.windows, d)
	}
	if len(r.windows) > 0 {
		r.note("maintenance windows: DisableAlarmActions stops the alarms' OK actions too, so a page sent before a window and resolved in it gets no resolve, and a page a window held is not sent at its end, as dpcops does.")
	}
	if l := r.s.Capacity.Lease; l != nil && len(l.Silence) > 0 {
		r.note("capacity.lease.silence holds back %s during a lease in the running dpcops only: CloudWatch cannot follow a lease.", strings.Join(l.Silence, ", "))
	}
	for _, j := range r.s.Maintenance {
		if len(j.Silence) > 0 && j.Enabled.On() {
			r.note("maintenance job %s holds back %s while it runs in the running dpcops; its scheduled target (maintenance_target_arn) runs it without that window.", j.Name, strings.Join(j.Silence, ", "))
		}
	}
}

// shiftCron returns the five-field cron that fires minutes after expr: it
// needs expr's minute and hour to be single numbers, its day of the month
// and month "*"; days of the week move with a day's rollover.
func shiftCron(expr string, minutes int) (string, error) {
	if d, ok := descriptors[strings.TrimSpace(expr)]; ok {
		expr = d
	}
	f := strings.Fields(expr)
	if len(f) != 5 {
		return "", fmt.Errorf("its end cannot be written as a cron expression (want five fields)")
	}
	m, err1 := strconv.Atoi(f[0])
	h, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || f[2] != "*" || f[3] != "*" {
		return "", fmt.Errorf("its end cannot be written as a cron expression: EventBridge needs its minute and hour as single numbers and every day of the month and month (%s)", expr)
	}
	at := h*60 + m + minutes
	days := at / (24 * 60)
	at %= 24 * 60
	dow := f[4]
	if dow != "*" && days > 0 {
		var shifted []string
		for _, part := range strings.Split(dow, ",") {
			i := slices.Index(dayNames, strings.ToUpper(part))
			if i < 0 {
				n, err := strconv.Atoi(part)
				if err != nil || n < 0 || n > 7 {
					return "", fmt.Errorf("its end cannot be written as a cron expression: day of the week %q is not one day", part)
				}
				i = n % 7
			}
			shifted = append(shifted, dayNames[(i+days)%7])
		}
		dow = strings.Join(shifted, ",")
	}
	return fmt.Sprintf("%d %d * * %s", at%60, at/60, dow), nil
}

// writeWindows writes windows.tf: the role Scheduler acts with, and per
// window the schedules that disable and enable its alarms' actions.
func (r *renderer) writeWindows(body *hclwrite.Body) {
	var arns list
	for _, w := range r.windows {
		for _, a := range w.alarms {
			arns = append(arns, expr(r.actionsOf(a)+".arn"))
		}
	}
	comment(body, "Scheduler's identity for the maintenance windows: it may only disable and enable the actions of the windows' alarms.")
	role := body.AppendNewBlock("resource", []string{"aws_iam_role", "windows"}).Body()
	set(role, "name", lit(awsName(r.s.Platform+"-dpcops-windows")))
	set(role, "assume_role_policy", assumeRole("scheduler.amazonaws.com"))
	body.AppendNewline()
	pol := body.AppendNewBlock("resource", []string{"aws_iam_role_policy", "windows"}).Body()
	set(pol, "name", lit("alarm-actions"))
	set(pol, "role", expr("aws_iam_role.windows.id"))
	set(pol, "policy", call{"jsonencode", []val{obj{{"Version", lit("2012-10-17")}, {"Statement", list{obj{
		{"Effect", lit("Allow")}, {"Action", list{lit("cloudwatch:DisableAlarmActions"), lit("cloudwatch:EnableAlarmActions")}}, {"Resource", arns}}}}}}})
	for _, w := range r.windows {
		var names list
		for _, a := range w.alarms {
			names = append(names, expr(r.actionsOf(a)+".alarm_name"))
		}
		for _, s := range []struct{ suffix, cron, api, what string }{
			{"open", w.openCron, "disableAlarmActions", "disables"},
			{"end", w.endCron, "enableAlarmActions", "enables"},
		} {
			body.AppendNewline()
			comment(body, fmt.Sprintf("Maintenance window %s: %s its alarms' actions.", w.name, s.what))
			b := body.AppendNewBlock("resource", []string{"aws_scheduler_schedule", w.id + "_" + s.suffix}).Body()
			set(b, "name", lit(awsName(r.s.Platform+"-window-"+w.name+"-"+s.suffix)))
			set(b, "schedule_expression", lit(s.cron))
			set(b, "schedule_expression_timezone", lit(w.tz))
			ft := b.AppendNewBlock("flexible_time_window", nil).Body()
			set(ft, "mode", lit("OFF"))
			t := b.AppendNewBlock("target", nil).Body()
			set(t, "arn", lit("arn:aws:scheduler:::aws-sdk:cloudwatch:"+s.api))
			set(t, "role_arn", expr("aws_iam_role.windows.arn"))
			set(t, "input", call{"jsonencode", []val{obj{{"AlarmNames", names}}}})
		}
	}
}

// windowed says whether a window disables an alarm's actions: an apply
// inside the window must not turn them on again.
func (r *renderer) windowed(a *alarmDef) bool {
	for _, w := range r.windows {
		if slices.Contains(w.alarms, a) {
			return true
		}
	}
	return false
}

// ignoreActionsEnabled leaves actions_enabled to the window's schedules.
func ignoreActionsEnabled(b *hclwrite.Body) {
	l := b.AppendNewBlock("lifecycle", nil).Body()
	set(l, "ignore_changes", list{expr("actions_enabled")})
}

// actionsOf is the alarm resource that carries an alarm's actions: its
// composite when an inhibit rule holds it back, else itself.
func (r *renderer) actionsOf(a *alarmDef) string {
	if in := r.inhibited(a); in != nil {
		return "aws_cloudwatch_composite_alarm." + in.id
	}
	return a.ref()
}
