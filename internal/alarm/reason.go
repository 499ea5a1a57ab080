package alarm

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ReasonData is the structured reason of a transition, shaped like
// CloudWatch's StateReasonData: what was evaluated, against what.
type ReasonData struct {
	Version string `json:"version"`
	// QueryDate is the evaluation time: the end of the newest period.
	QueryDate time.Time `json:"queryDate"`
	// StartDate is the start of the evaluation range.
	StartDate  time.Time `json:"startDate"`
	Statistic  string    `json:"statistic"`
	Expression string    `json:"expression,omitempty"`
	// Period is in seconds.
	Period int64 `json:"period"`
	// RecentDatapoints are the values weighed, oldest first.
	RecentDatapoints []float64 `json:"recentDatapoints"`
	Threshold        float64   `json:"threshold"`
	// EvaluatedDatapoints are the datapoints weighed, newest first.
	EvaluatedDatapoints []EvaluatedDatapoint `json:"evaluatedDatapoints"`
	TreatMissingData    string               `json:"treatMissingData"`
	EvaluationPeriods   int                  `json:"evaluationPeriods"`
	DatapointsToAlarm   int                  `json:"datapointsToAlarm"`
	// FilledDatapoints counts the missing datapoints the missing-data
	// setting stood in for.
	FilledDatapoints int `json:"filledDatapoints"`
}

// EvaluatedDatapoint is one datapoint of a decision.
type EvaluatedDatapoint struct {
	// Timestamp is the start of the datapoint's period, as CloudWatch
	// stamps datapoints.
	Timestamp time.Time `json:"timestamp"`
	Value     float64   `json:"value"`
	Breaching bool      `json:"breaching"`
}

// explain builds the reason of a transition to d.State at t, the end of
// the newest period of window (the values of the evaluation range), and,
// if withData, its ReasonData as JSON.
func (c *compiled) explain(t time.Time, window []float64, d Decision, from State, withData bool) (string, json.RawMessage) {
	pts := c.weighed(t, window)
	text := c.reasonText(len(window), pts, d, from)
	if !withData {
		return text, nil
	}
	rd := ReasonData{
		Version:             "1.0",
		QueryDate:           t.UTC(),
		StartDate:           t.Add(-time.Duration(len(window)) * c.period).UTC(),
		Statistic:           c.stat.String(),
		Period:              int64(c.period / time.Second),
		Threshold:           c.rule.Threshold,
		EvaluatedDatapoints: pts,
		RecentDatapoints:    make([]float64, len(pts)),
		TreatMissingData:    c.rule.Missing.String(),
		EvaluationPeriods:   c.rule.EvaluationPeriods,
		DatapointsToAlarm:   c.rule.DatapointsToAlarm,
		FilledDatapoints:    d.Filled,
	}
	if c.expr != nil {
		rd.Expression = c.written.String()
	}
	for i, p := range pts {
		rd.RecentDatapoints[len(pts)-1-i] = p.Value
	}
	data, err := json.Marshal(rd)
	if err != nil {
		// Only non-finite numbers fail to marshal, and pts holds none.
		data = []byte("{}")
	}
	return text, data
}

// weighed returns the real datapoints a decision weighs, newest first:
// the newest N real datapoints of the range.
func (c *compiled) weighed(t time.Time, window []float64) []EvaluatedDatapoint {
	var out []EvaluatedDatapoint
	for i := len(window) - 1; i >= 0 && len(out) < c.rule.EvaluationPeriods; i-- {
		v := window[i]
		if math.IsNaN(v) {
			continue
		}
		start := t.Add(-time.Duration(len(window)-i) * c.period).UTC()
		out = append(out, EvaluatedDatapoint{Timestamp: start, Value: v, Breaching: c.rule.Comparison.Breaches(v, c.rule.Threshold)})
	}
	return out
}

// reasonText writes a reason the way CloudWatch's StateReason does, e.g.
// "Threshold Crossed: 2 out of the last 2 datapoints [95.0 (27/11/26
// 03:05:00), 92.0 (27/11/26 03:00:00)] were greater than the threshold
// (90.0) (minimum 2 datapoints for OK -> ALARM transition)."
func (c *compiled) reasonText(rangeLen int, pts []EvaluatedDatapoint, d Decision, from State) string {
	r := c.rule
	switch {
	case d.State == InsufficientData:
		return fmt.Sprintf("Insufficient Data: %s unknown.", plural(rangeLen, "datapoint was", "datapoints were"))
	case d.Real == 0:
		return fmt.Sprintf("Threshold Crossed: no datapoints were received for %d periods and %s treated as [%s].",
			rangeLen, plural(d.Filled, "missing datapoint was", "missing datapoints were"), fillName(r.Missing))
	}
	toAlarm := d.State == Alarm
	var sel []string
	for _, p := range pts {
		if p.Breaching == toAlarm {
			sel = append(sel, formatValue(p.Value)+" ("+p.Timestamp.Format("02/01/06 15:04:05")+")")
		}
	}
	out, fills := d.Used, 0
	if d.Path == PathFilled {
		out = r.EvaluationPeriods
		if toAlarm == (r.Missing == TreatBreaching) {
			fills = d.Filled
		}
	}
	k := len(sel) + fills
	var b strings.Builder
	b.WriteString("Threshold Crossed: ")
	if out == 1 {
		b.WriteString("1 datapoint")
	} else {
		fmt.Fprintf(&b, "%d out of the last %d datapoints", k, out)
	}
	if len(sel) > 0 {
		b.WriteString(" [" + strings.Join(sel, ", ") + "]")
	}
	verb := "were "
	if k == 1 {
		verb = "was "
	}
	if !toAlarm {
		verb += "not "
	}
	fmt.Fprintf(&b, " %s%s the threshold (%s)", verb, r.Comparison.phrase(), formatValue(r.Threshold))
	if fills > 0 {
		fmt.Fprintf(&b, " (%s treated as [%s])", plural(fills, "missing datapoint was", "missing datapoints were"), fillName(r.Missing))
	}
	b.WriteString(c.qualifier(d, from))
	b.WriteString(".")
	return b.String()
}

// qualifier explains how many datapoints the transition needed.
func (c *compiled) qualifier(d Decision, from State) string {
	r := c.rule
	switch d.Path {
	case PathNewest, PathFilled:
		if r.EvaluationPeriods == 1 {
			return ""
		}
		need := r.DatapointsToAlarm
		if d.State == OK {
			need = r.EvaluationPeriods - r.DatapointsToAlarm + 1
		}
		return fmt.Sprintf(" (minimum %s for %s -> %s transition)", plural(need, "datapoint", "datapoints"), from, d.State)
	case PathPremature:
		return fmt.Sprintf(" (%d of %d datapoints missing; the oldest breaching datapoint is at least %d periods old)",
			r.EvaluationPeriods-d.Real, r.EvaluationPeriods, r.DatapointsToAlarm)
	}
	return fmt.Sprintf(" (%d of %d datapoints missing)", r.EvaluationPeriods-d.Real, r.EvaluationPeriods)
}

func fillName(m Missing) string {
	if m == TreatBreaching {
		return "Breaching"
	}
	return "NonBreaching"
}

// plural formats "1 thing" or "n things".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// formatValue writes a number as CloudWatch's reasons do: 95.0, 0.25.
func formatValue(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}
