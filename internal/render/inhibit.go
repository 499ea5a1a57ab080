package render

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// inhibition is the CloudWatch form of the inhibit rules that hold back
// one target alarm: its notifications move from its metric alarm to a
// composite alarm on it, whose actions_suppressor is the source alarm (or
// a composite of the sources, when there are several), so that CloudWatch
// sends nothing while a source is in ALARM.
type inhibition struct {
	target  *alarmDef
	sources []*alarmDef
	// suppressor names the composite of several sources ("" for one).
	suppressor, suppressorID string
	id                       string
}

// planInhibition works out the composite alarms of notify.inhibit, after
// the notification plan has given each alarm its actions.
func (r *renderer) planInhibition() {
	byName := map[string]*alarmDef{}
	for _, a := range r.alarms {
		byName[a.name] = a
	}
	sources := map[string][]string{}
	var order []string
	for _, rule := range r.s.Notify.Inhibit {
		for _, name := range spec.AlarmsMatching(r.s, rule.Target...) {
			if _, ok := byName[name]; !ok {
				continue // off, or not rendered: nothing to hold back
			}
			if _, seen := sources[name]; !seen {
				order = append(order, name)
			}
			for _, s := range rule.Source {
				if !slices.Contains(sources[name], s) {
					sources[name] = append(sources[name], s)
				}
			}
		}
	}
	for _, name := range order {
		in := &inhibition{target: byName[name], id: r.alarmIDs.name(name + "-notify")}
		for _, s := range sources[name] {
			if a, ok := byName[s]; ok {
				in.sources = append(in.sources, a)
			}
		}
		if len(in.sources) == 0 {
			r.note("inhibit rules hold back %s while alarms that are not rendered fire: CloudWatch pages it regardless.", name)
			continue
		}
		for _, a := range append([]*alarmDef{in.target}, in.sources...) {
			if strings.ContainsAny(a.name, `"\`) {
				r.ps.add("notify.inhibit", "alarm "+quoteOdd(a.name), "a composite alarm rule cannot name an alarm with a quote or backslash")
			}
		}
		if len(in.sources) > 1 {
			in.suppressor = awsName(r.s.Platform + "-inhibits-" + name)
			in.suppressorID = r.alarmIDs.name(name + "-inhibitors")
		}
		r.inhibitions = append(r.inhibitions, in)
	}
	// A subscription that filters on alarm names must let the composite's
	// notifications through: they carry its name.
	for _, sd := range r.subs {
		if sd.names == nil {
			continue
		}
		for _, in := range r.inhibitions {
			if slices.Contains(sd.names, in.target.name) {
				sd.names = append(sd.names, awsName(in.target.name+"-notify"))
			}
		}
		if n := len(sd.names) * max(len(sd.states), 1); n > maxFilterCombos {
			r.ps.add("notify.inhibit", "subscription of "+sd.topic, "with the inhibited alarms' composites its filter policy has %d combinations; SNS allows %d", n, maxFilterCombos)
		}
	}
	if len(r.inhibitions) > 0 {
		r.note("inhibit rules: CloudWatch suppresses a held-back alarm's actions (its OK too) while its source is in ALARM, and does not send them when the source resolves, as dpcops does; a page sent before the source fired may get no resolve. Each page of an inhibited alarm waits 60 s (wait_period) for its source. The composite is OK whenever its alarm is not in ALARM, so it resolves on INSUFFICIENT_DATA too, which dpcops never does.")
	}
}

// inhibited returns the inhibition of an alarm, nil if none.
func (r *renderer) inhibited(a *alarmDef) *inhibition {
	for _, in := range r.inhibitions {
		if in.target == a {
			return in
		}
	}
	return nil
}

// alarmRule is ALARM("name") of an alarm, by reference.
func alarmRule(a *alarmDef) str {
	return cat(lit(`ALARM("`), ref(a.ref()+".alarm_name", a.name), lit(`")`))
}

// writeInhibitions writes the composite alarms: per target, one that
// carries its actions with the suppressor, and for several sources the
// suppressor itself.
func (r *renderer) writeInhibitions(body *hclwrite.Body) {
	for _, in := range r.inhibitions {
		body.AppendNewline()
		suppressor := expr(in.sources[0].ref() + ".alarm_name")
		if in.suppressor != "" {
			var parts []str
			for i, s := range in.sources {
				if i > 0 {
					parts = append(parts, lit(" OR "))
				}
				parts = append(parts, alarmRule(s))
			}
			comment(body, fmt.Sprintf("In ALARM while any alarm that inhibits %s is: the suppressor of its notifications.", in.target.name))
			sb := body.AppendNewBlock("resource", []string{"aws_cloudwatch_composite_alarm", in.suppressorID}).Body()
			set(sb, "alarm_name", lit(in.suppressor))
			set(sb, "alarm_rule", cat(parts...))
			set(sb, "tags", obj{{"ManagedBy", lit("dpcops")}})
			body.AppendNewline()
			suppressor = expr("aws_cloudwatch_composite_alarm." + in.suppressorID + ".alarm_name")
		}
		names := make([]string, len(in.sources))
		for i, s := range in.sources {
			names[i] = s.name
		}
		comment(body, fmt.Sprintf("%s notifies through this composite alarm, held back while %s is in ALARM (notify.inhibit).", in.target.name, strings.Join(names, " or ")))
		b := body.AppendNewBlock("resource", []string{"aws_cloudwatch_composite_alarm", in.id}).Body()
		set(b, "alarm_name", lit(awsName(in.target.name+"-notify")))
		set(b, "alarm_description", lit(fmt.Sprintf("Notifications of %s, held back while %s is in ALARM.", in.target.name, strings.Join(names, " or "))))
		set(b, "alarm_rule", alarmRule(in.target))
		set(b, "alarm_actions", strList(in.target.alarmActions))
		set(b, "ok_actions", strList(in.target.okActions))
		s := b.AppendNewBlock("actions_suppressor", nil).Body()
		set(s, "alarm", suppressor)
		// Every page of the target waits wait_period for the suppressor
		// to fire with it: as short as CloudWatch takes. After the
		// suppressor resolves, its longest period passes before the
		// target's actions run again, as dpcops waits one of the
		// inhibitor's periods.
		extension := int64(60)
		for _, src := range in.sources {
			extension = max(extension, src.period)
		}
		set(s, "wait_period", num(60))
		set(s, "extension_period", num(extension))
		set(b, "tags", obj{{"Severity", lit(in.target.severity)}, {"ManagedBy", lit("dpcops")}})
		if r.windowed(in.target) {
			ignoreActionsEnabled(b)
		}
	}
}
