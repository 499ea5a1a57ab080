package notify

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// Kind says what a notification announces.
type Kind string

// The kinds of notification.
const (
	// KindTrigger: the alarm entered ALARM.
	KindTrigger Kind = "trigger"
	// KindResolve: the alarm is back to OK after an episode the channel
	// was told about. PagerDuty resolves and OpsGenie closes the incident;
	// other channels get an OK message.
	KindResolve Kind = "resolve"
	// KindRepeat: the alarm is still in ALARM after its repeat_interval.
	KindRepeat Kind = "repeat"
	// KindNotice: the alarm went to INSUFFICIENT_DATA; sent only to
	// subscriptions whose filter asks for that state, never paged.
	KindNotice Kind = "notice"
	// KindTest: `dpcops notify test`.
	KindTest Kind = "test"
)

// Message is what a notification says: the alarm, its change, and the
// numbers behind it. It is stored as the outbox row's payload and rendered
// by each channel at send time.
type Message struct {
	Kind        Kind   `json:"kind"`
	Platform    string `json:"platform"`
	Environment string `json:"environment"`
	Alarm       string `json:"alarm"`
	Description string `json:"description,omitempty"`
	// Severity is critical, error, warning or info.
	Severity string `json:"severity"`
	// From and To are the alarm states of the transition.
	From string `json:"from"`
	To   string `json:"to"`
	// Metric or Expression is what the alarm watches.
	Metric     string            `json:"metric,omitempty"`
	Namespace  string            `json:"namespace,omitempty"`
	Expression string            `json:"expression,omitempty"`
	Dimensions map[string]string `json:"dimensions,omitempty"`
	Statistic  string            `json:"statistic"`
	// Comparison is the CloudWatch operator name.
	Comparison        string  `json:"comparison"`
	Threshold         float64 `json:"threshold"`
	PeriodSeconds     int64   `json:"period_seconds"`
	EvaluationPeriods int     `json:"evaluation_periods"`
	DatapointsToAlarm int     `json:"datapoints_to_alarm"`
	TreatMissingData  string  `json:"treat_missing_data"`
	// Value is the newest datapoint the decision weighed; nil when none
	// was real (missing data).
	Value  *float64 `json:"value,omitempty"`
	Reason string   `json:"reason"`
	// Time is the transition's time: the end of the evaluated period.
	Time time.Time `json:"time"`
	// Episode counts the alarm's entries into ALARM; with the alarm it
	// makes the dedup key.
	Episode      int64 `json:"episode"`
	TransitionID int64 `json:"transition_id,omitempty"`
	// DashboardURL links to the alarm's page (serve.external_url); "" when
	// no external URL is configured.
	DashboardURL string `json:"dashboard_url,omitempty"`
	// AccountID and Region are the spec's aws section (SNS payload).
	AccountID string `json:"account_id,omitempty"`
	Region    string `json:"region,omitempty"`
}

// NewMessage builds the message of a transition of the spec alarm a.
func NewMessage(s *spec.Spec, a *spec.Alarm, t alarm.Transition, kind Kind) Message {
	m := Message{
		Kind:              kind,
		Platform:          s.Platform,
		Environment:       s.Environment,
		Alarm:             t.Alarm,
		From:              string(t.From),
		To:                string(t.To),
		Reason:            t.Reason,
		Time:              t.Time.UTC(),
		Episode:           t.Episode,
		TransitionID:      t.ID,
		DashboardURL:      AlarmURL(s, t.Alarm),
		AccountID:         s.AWS.AccountID,
		Region:            s.AWS.Region,
		Severity:          "warning",
		EvaluationPeriods: 1,
		DatapointsToAlarm: 1,
	}
	if a != nil {
		m.Description = a.Description
		m.Severity = a.Severity
		m.Metric = a.Metric
		m.Expression = a.Expression
		m.Statistic = a.Statistic
		m.Comparison = a.Comparison
		if a.Threshold != nil {
			m.Threshold = *a.Threshold
		}
		m.PeriodSeconds = a.Period.Seconds()
		m.EvaluationPeriods = a.EvaluationPeriods
		m.DatapointsToAlarm = a.DatapointsToAlarm
		m.TreatMissingData = a.TreatMissingData
		if len(a.Dimensions) > 0 {
			m.Dimensions = a.Dimensions.Map()
		}
		if mt, ok := s.Metric(a.Metric); ok {
			m.Namespace = mt.Namespace
		}
	}
	var rd alarm.ReasonData
	if json.Unmarshal(t.ReasonData, &rd) == nil && len(rd.EvaluatedDatapoints) > 0 {
		// EvaluatedDatapoints are newest first.
		v := rd.EvaluatedDatapoints[0].Value
		m.Value = &v
	}
	return m
}

// TestMessage is the clearly marked message of `dpcops notify test`.
func TestMessage(s *spec.Spec, channel string, now time.Time) Message {
	return Message{
		Kind:         KindTest,
		Platform:     s.Platform,
		Environment:  s.Environment,
		Alarm:        "dpcops-test",
		Description:  "This is a test notification sent by `dpcops notify test " + channel + "`. No action is needed.",
		Severity:     "info",
		From:         string(alarm.OK),
		To:           string(alarm.Alarm),
		Reason:       "TEST: checking that channel " + channel + " delivers. No action is needed.",
		Time:         now.UTC(),
		DashboardURL: strings.TrimRight(s.Serve.ExternalURL, "/"),
		AccountID:    s.AWS.AccountID,
		Region:       s.AWS.Region,
	}
}

// AlarmURL is the web UI's page of an alarm, "" without serve.external_url.
func AlarmURL(s *spec.Spec, name string) string {
	base := strings.TrimRight(s.Serve.ExternalURL, "/")
	if base == "" {
		return ""
	}
	return base + "/alarms/" + url.PathEscape(name)
}

// Label is the short word a message leads with: ALARM, RESOLVED, STILL
// ALARM, INSUFFICIENT DATA or TEST.
func (m Message) Label() string {
	switch m.Kind {
	case KindResolve:
		return "RESOLVED"
	case KindRepeat:
		return "STILL ALARM"
	case KindNotice:
		return "INSUFFICIENT DATA"
	case KindQuery:
		return "QUERY"
	case KindTest:
		return "TEST"
	}
	return "ALARM"
}

// Title is a one-line headline, such as "[ALARM] Alert-COPY-Error
// (critical) dpc-learning/prod".
func (m Message) Title() string {
	t := fmt.Sprintf("[%s] %s (%s)", m.Label(), m.Alarm, m.Severity)
	if m.Platform != "" {
		t += " " + m.Platform
		if m.Environment != "" {
			t += "/" + m.Environment
		}
	}
	return t
}

// Watched names what the alarm watches: the metric or the expression.
func (m Message) Watched() string {
	if m.Expression != "" {
		return m.Expression
	}
	return m.Metric
}

// Condition reads like "Sum of CopyErrorCount >= 1 over 1 period of 5m".
func (m Message) Condition() string {
	if m.Kind == KindTest {
		return "none (test message)"
	}
	period := spec.Duration(time.Duration(m.PeriodSeconds) * time.Second).String()
	return fmt.Sprintf("%s of %s %s %s, %d of %d periods of %s", m.Statistic, m.Watched(), Operator(m.Comparison),
		FormatValue(m.Threshold), m.DatapointsToAlarm, m.EvaluationPeriods, period)
}

// ValueText is the newest value, or "no data".
func (m Message) ValueText() string {
	if m.Value == nil {
		return "no data"
	}
	return FormatValue(*m.Value)
}

// Summary is one sentence for receivers that take a short text (PagerDuty
// summary, OpsGenie message, SNS subject): label, alarm, value and
// threshold.
func (m Message) Summary() string {
	if m.Kind == KindTest {
		return fmt.Sprintf("[TEST] dpcops test notification for %s/%s: no action needed", m.Platform, m.Environment)
	}
	return fmt.Sprintf("[%s] %s: %s = %s (threshold %s %s)", m.Label(), m.Alarm, m.Watched(), m.ValueText(),
		Operator(m.Comparison), FormatValue(m.Threshold))
}

// Operator is the symbol of a CloudWatch comparison operator.
func Operator(comparison string) string {
	switch comparison {
	case "GreaterThanThreshold":
		return ">"
	case "GreaterThanOrEqualToThreshold":
		return ">="
	case "LessThanThreshold":
		return "<"
	case "LessThanOrEqualToThreshold":
		return "<="
	}
	return comparison
}

// FormatValue prints a number without needless digits.
func FormatValue(v float64) string {
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// Truncate cuts s to at most n bytes on a rune boundary, marking the cut
// with an ellipsis; receivers refuse fields over their limits.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ell = "…"
	if n <= len(ell) {
		return s[:n]
	}
	cut := n - len(ell)
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + ell
}

// TruncateRunes cuts s to at most n characters (some receivers count
// characters, not bytes).
func TruncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n < 1 {
		return ""
	}
	return string(r[:n-1]) + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
