package sns

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/dpc-learning/dpcops/internal/notify"
)

// Alarm is the message body: the fields of CloudWatch's alarm state
// change notification, and dpcops' own under Dpcops.
type Alarm struct {
	AlarmName        string  `json:"AlarmName"`
	AlarmDescription string  `json:"AlarmDescription"`
	AWSAccountID     string  `json:"AWSAccountId"`
	NewStateValue    string  `json:"NewStateValue"`
	NewStateReason   string  `json:"NewStateReason"`
	StateChangeTime  string  `json:"StateChangeTime"`
	Region           string  `json:"Region"`
	AlarmArn         string  `json:"AlarmArn"`
	OldStateValue    string  `json:"OldStateValue"`
	Trigger          Trigger `json:"Trigger"`
	Dpcops           Extra   `json:"Dpcops"`
}

// Trigger describes the alarm's condition, as CloudWatch's does.
type Trigger struct {
	MetricName         string      `json:"MetricName,omitempty"`
	Namespace          string      `json:"Namespace,omitempty"`
	StatisticType      string      `json:"StatisticType"`
	Statistic          string      `json:"Statistic"`
	Dimensions         []Dimension `json:"Dimensions"`
	Metrics            []Metric    `json:"Metrics,omitempty"`
	Period             int64       `json:"Period"`
	EvaluationPeriods  int         `json:"EvaluationPeriods"`
	DatapointsToAlarm  int         `json:"DatapointsToAlarm"`
	ComparisonOperator string      `json:"ComparisonOperator"`
	Threshold          float64     `json:"Threshold"`
	TreatMissingData   string      `json:"TreatMissingData"`
}

// Dimension is one dimension of the alarm's metric.
type Dimension struct {
	Value string `json:"value"`
	Name  string `json:"name"`
}

// Metric is a metric math query of an expression alarm.
type Metric struct {
	ID         string `json:"Id"`
	Expression string `json:"Expression"`
	ReturnData bool   `json:"ReturnData"`
}

// Extra is what dpcops adds: the delivery's kind and dedup key, the
// severity, the episode, the newest value and the dashboard link.
type Extra struct {
	Kind         notify.Kind `json:"Kind"`
	DedupKey     string      `json:"DedupKey"`
	Severity     string      `json:"Severity"`
	Episode      int64       `json:"Episode"`
	Value        *float64    `json:"Value"`
	Platform     string      `json:"Platform"`
	Environment  string      `json:"Environment"`
	DashboardURL string      `json:"DashboardURL,omitempty"`
}

// CloudWatchJSON renders the delivery as the JSON message body.
func CloudWatchJSON(d *notify.Delivery) ([]byte, error) {
	m := d.Message
	stat, statType := m.Statistic, "Statistic"
	if strings.HasPrefix(stat, "p") || strings.HasPrefix(stat, "tm") {
		statType = "ExtendedStatistic"
	} else {
		// CloudWatch writes the standard statistics in capitals.
		stat = strings.ToUpper(stat)
	}
	a := Alarm{
		AlarmName:        m.Alarm,
		AlarmDescription: m.Description,
		AWSAccountID:     m.AccountID,
		NewStateValue:    m.To,
		NewStateReason:   m.Reason,
		StateChangeTime:  m.Time.UTC().Format("2006-01-02T15:04:05.000-0700"),
		Region:           m.Region,
		AlarmArn:         "arn:aws:cloudwatch:" + m.Region + ":" + m.AccountID + ":alarm:" + m.Alarm,
		OldStateValue:    m.From,
		Trigger: Trigger{
			MetricName: m.Metric, Namespace: m.Namespace, StatisticType: statType, Statistic: stat,
			Dimensions: []Dimension{}, Period: m.PeriodSeconds, EvaluationPeriods: m.EvaluationPeriods,
			DatapointsToAlarm: m.DatapointsToAlarm, ComparisonOperator: m.Comparison, Threshold: m.Threshold,
			TreatMissingData: m.TreatMissingData,
		},
		Dpcops: Extra{Kind: d.Kind, DedupKey: d.DedupKey, Severity: m.Severity, Episode: m.Episode, Value: m.Value,
			Platform: m.Platform, Environment: m.Environment, DashboardURL: m.DashboardURL},
	}
	for k, v := range m.Dimensions {
		a.Trigger.Dimensions = append(a.Trigger.Dimensions, Dimension{Value: v, Name: k})
	}
	sort.Slice(a.Trigger.Dimensions, func(i, j int) bool { return a.Trigger.Dimensions[i].Name < a.Trigger.Dimensions[j].Name })
	if m.Expression != "" {
		a.Trigger.Metrics = []Metric{{ID: "e1", Expression: m.Expression, ReturnData: true}}
	}
	return json.Marshal(a)
}
