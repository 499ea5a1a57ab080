package render

import (
	"strings"
	"testing"
)

func TestShiftCron(t *testing.T) {
	for _, tt := range []struct {
		expr    string
		minutes int
		want    string
	}{
		{"0 4 * * SUN", 120, "0 6 * * SUN"},
		{"0 23 * * SUN", 120, "0 1 * * MON"},
		{"30 22 * * 5,6", 24 * 60, "30 22 * * SAT,SUN"},
		{"15 3 * * *", 30, "45 3 * * *"},
		{"@daily", 90, "30 1 * * *"},
	} {
		if got, err := shiftCron(tt.expr, tt.minutes); err != nil || got != tt.want {
			t.Errorf("shiftCron(%q, %d) = %q, %v; want %q", tt.expr, tt.minutes, got, err, tt.want)
		}
	}
	// A range of days cannot move to the next day (it may: no rollover).
	if got, err := shiftCron("0 4 * * MON-FRI", 60); err != nil || got != "0 5 * * MON-FRI" {
		t.Errorf("no rollover: %q %v", got, err)
	}
	for _, bad := range []string{"*/15 * * * *", "0 4 1 * *", "0 4,16 * * *", "0 23 * * MON-FRI"} {
		if _, err := shiftCron(bad, 120); err == nil {
			t.Errorf("shiftCron(%q) wrote an end", bad)
		}
	}
}

// TestWindowsRender: the default spec's weekly window disables the
// actions of its alarms at 04:00 on Sundays in its zone and enables them
// at 06:00; a window whose end cron cannot say is a note, not a schedule.
func TestWindowsRender(t *testing.T) {
	s := defaultSpec(t)
	files, err := Terraform(s)
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(strings.Fields(string(files["windows.tf"])), " ")
	for _, want := range []string{
		`schedule_expression = "cron(0 4 ? * SUN *)" schedule_expression_timezone = "Asia/Tokyo"`,
		`arn = "arn:aws:scheduler:::aws-sdk:cloudwatch:disableAlarmActions"`,
		`schedule_expression = "cron(0 6 ? * SUN *)"`,
		`arn = "arn:aws:scheduler:::aws-sdk:cloudwatch:enableAlarmActions"`,
		`AlarmNames = [aws_cloudwatch_metric_alarm.alert_storage_high.alarm_name, aws_cloudwatch_metric_alarm.alert_rpu_spike.alarm_name]`,
		`Action = ["cloudwatch:DisableAlarmActions", "cloudwatch:EnableAlarmActions"]`,
	} {
		if !strings.Contains(w, want) {
			t.Errorf("windows.tf lacks %s:\n%s", want, files["windows.tf"])
		}
	}
	// An apply inside the window leaves the alarms' actions to it.
	if a := strings.Join(strings.Fields(string(files["alarms.tf"])), " "); strings.Count(a, "ignore_changes = [actions_enabled]") != 2 {
		t.Errorf("windowed alarms: %d lifecycle blocks, want 2", strings.Count(a, "ignore_changes = [actions_enabled]"))
	}
	s.Windows[0].Schedule = "*/30 * * * *"
	s.Windows[0].Duration = 600000000000 // 10m
	files, err = Terraform(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["windows.tf"]; ok {
		t.Error("a window whose end cannot be a cron was rendered")
	}
	if !strings.Contains(string(files["README.md"]), "maintenance window weekly-vacuum is held by the running dpcops only") {
		t.Errorf("no note for the window:\n%s", files["README.md"])
	}
}
