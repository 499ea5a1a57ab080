package render

import (
	"fmt"
	"strconv"
	"strings"
)

// descriptors are the cron shorthands the spec accepts, as five fields.
var descriptors = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

var dayNames = []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}

// eventBridgeCron converts a five-field cron expression (minute hour
// day-of-month month day-of-week) into EventBridge Scheduler's six-field
// cron(...) expression. EventBridge needs "?" in one of the two day
// fields, so a schedule restricting both (which cron reads as "either")
// cannot be expressed; nor can a step in day-of-week or @every.
func eventBridgeCron(expr string) (string, error) {
	expr = strings.TrimSpace(expr)
	if strings.HasPrefix(expr, "@every") {
		return "", fmt.Errorf("@every has no fixed times of day: write a five-field cron expression")
	}
	if d, ok := descriptors[expr]; ok {
		expr = d
	} else if strings.HasPrefix(expr, "@") {
		return "", fmt.Errorf("unknown descriptor %s", expr)
	}
	f := strings.Fields(expr)
	if len(f) != 5 {
		return "", fmt.Errorf("want five fields (minute hour day-of-month month day-of-week), got %d", len(f))
	}
	minute, hour, dom, month, dow := f[0], f[1], f[2], f[3], f[4]
	for _, v := range []string{minute, hour, dom, month} {
		if strings.ContainsAny(v, "LW#") {
			return "", fmt.Errorf("field %q uses a character five-field cron does not have", v)
		}
	}
	dom = strings.ReplaceAll(dom, "?", "*")
	dow = strings.ReplaceAll(dow, "?", "*")
	anyDom, anyDow := dom == "*", dow == "*"
	switch {
	case !anyDom && !anyDow:
		return "", fmt.Errorf("it restricts both day-of-month (%s) and day-of-week (%s), which cron reads as either; EventBridge takes one of the two: split the job in two", dom, dow)
	case anyDow:
		dow = "?"
	default:
		dom = "?"
		var err error
		if dow, err = eventBridgeDays(dow); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("cron(%s %s %s %s %s *)", minute, hour, dom, strings.ToUpper(month), dow), nil
}

// eventBridgeDays rewrites a day-of-week field with day names: cron
// counts 0-6 from Sunday (7 is Sunday too), EventBridge 1-7.
func eventBridgeDays(field string) (string, error) {
	if strings.Contains(field, "/") {
		return "", fmt.Errorf("day-of-week %q has a step, which EventBridge does not take in that field: list the days", field)
	}
	items := strings.Split(field, ",")
	for i, item := range items {
		ends := strings.Split(item, "-")
		if len(ends) > 2 {
			return "", fmt.Errorf("bad day-of-week range %q", item)
		}
		for j, e := range ends {
			name, err := dayName(e)
			if err != nil {
				return "", err
			}
			ends[j] = name
		}
		if len(ends) == 2 && ends[1] == "SUN" && ends[0] != "SUN" {
			// cron's "5-7" (Friday to Sunday) wraps past Saturday, which
			// EventBridge's ranges do not.
			ends = []string{ends[0] + "-SAT,SUN"}
		}
		items[i] = strings.Join(ends, "-")
	}
	return strings.Join(items, ","), nil
}

func dayName(s string) (string, error) {
	u := strings.ToUpper(s)
	for _, d := range dayNames {
		if u == d {
			return d, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 7 {
		return "", fmt.Errorf("bad day of week %q", s)
	}
	return dayNames[n%7], nil
}
