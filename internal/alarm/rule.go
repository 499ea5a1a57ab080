package alarm

// extraPeriods is how many periods the evaluation range holds beyond N.
// AWS documents the range only by example: 5 periods for N = 3. dpcops
// reads N + 2 for every N: it matches that example, and it gives every
// alarm the same two periods of memory, so that an alarm on a metric that
// reports late or intermittently neither flips to INSUFFICIENT_DATA nor
// fills a gap on the first missing period, while a metric that stops
// reporting is noticed after N + 2 periods at most.
const extraPeriods = 2

// Rule is how an alarm turns the values of its evaluation range into a
// state: the operator and threshold, datapoints_to_alarm (M) of
// evaluation_periods (N), and the treatment of missing data.
type Rule struct {
	Comparison        Comparison
	Threshold         float64
	EvaluationPeriods int
	DatapointsToAlarm int
	Missing           Missing
}

// RangeLen is the number of periods the rule reads: N + 2.
func (r Rule) RangeLen() int { return r.EvaluationPeriods + extraPeriods }

// Path says which of CloudWatch's rules reached a decision.
type Path int

// The ways to a decision.
const (
	// PathNewest: at least N real datapoints in the range; the newest N of
	// them decide and the missing-data setting is not used.
	PathNewest Path = iota + 1
	// PathFilled: fewer than N real datapoints; the gaps were filled as
	// breaching or not breaching, as few as needed to make N.
	PathFilled
	// PathPartial: fewer than N real datapoints with missing or ignore;
	// the real ones decide.
	PathPartial
	// PathPremature: fewer than M real datapoints, all breaching since the
	// oldest breaching one, which is at least M periods old: ALARM.
	PathPremature
	// PathNoData: not one real datapoint in the range.
	PathNoData
	// PathTooFew: fewer than M real datapoints, all breaching but too
	// recent to alarm yet; the state is kept.
	PathTooFew
)

// Decision is the outcome of evaluating one range.
type Decision struct {
	// State is the new state; with Retain it is the current state.
	State State
	// Retain is set when the data decides nothing and the alarm keeps its
	// state (ignore, or too few recent datapoints).
	Retain bool
	Path   Path
	// Real counts the real datapoints in the range.
	Real int
	// Used counts the real datapoints the decision weighed: the newest N.
	Used int
	// Breaching counts the breaching datapoints weighed, fills included.
	Breaching int
	// Filled counts the datapoints missing to make N, which the
	// missing-data setting stood in for.
	Filled int
}

// Decide evaluates the values of an evaluation range, oldest first, NaN
// where a period has no data. current is the alarm's state, which ignore
// and the too-few-datapoints case keep.
func (r Rule) Decide(values []float64, current State) Decision {
	var buf [16]mark
	marks := buf[:0]
	for _, v := range values {
		marks = append(marks, classify(r.Comparison, v, r.Threshold))
	}
	return r.decide(marks, current)
}

// decide is Decide over classified periods. The rules are AWS's
// (alarms-and-missing-data): see docs/alarms.md for the reasoning behind
// the cases AWS leaves open.
func (r Rule) decide(marks []mark, current State) Decision {
	n, m := r.EvaluationPeriods, r.DatapointsToAlarm
	var d Decision
	b := 0
	for i := len(marks) - 1; i >= 0; i-- {
		if marks[i] == markMissing {
			continue
		}
		d.Real++
		if d.Used < n {
			d.Used++
			if marks[i] == markBreach {
				b++
			}
		}
	}
	d.Breaching = b
	if d.Real >= n {
		d.Path, d.State = PathNewest, alarmIf(b >= m)
		return d
	}
	d.Filled = n - d.Real
	switch r.Missing {
	case TreatBreaching:
		d.Breaching += d.Filled
		d.Path, d.State = PathFilled, alarmIf(d.Breaching >= m)
		return d
	case TreatNotBreaching:
		d.Path, d.State = PathFilled, alarmIf(b >= m)
		return d
	}
	ignore := r.Missing == TreatIgnore
	switch {
	case d.Real == 0:
		d.Path = PathNoData
		if ignore {
			return retain(d, current)
		}
		d.State = InsufficientData
	case d.Real >= m:
		d.Path, d.State = PathPartial, alarmIf(b >= m)
	case premature(marks, m):
		// With ignore, fewer than M real datapoints never move the alarm
		// to ALARM: the missing periods keep the state (AWS's tables).
		d.Path = PathPremature
		if ignore {
			return retain(d, current)
		}
		d.State = Alarm
	case b < d.Real:
		d.Path, d.State = PathPartial, OK
	default:
		d.Path = PathTooFew
		return retain(d, current)
	}
	return d
}

// premature applies CloudWatch's rule for alarms with fewer than M
// datapoints: ALARM when the oldest breaching datapoint is at least M
// periods old and every newer datapoint breaches or is missing.
func premature(marks []mark, m int) bool {
	oldest := -1
	for i, mk := range marks {
		if mk == markBreach {
			oldest = i
			break
		}
	}
	if oldest < 0 || len(marks)-oldest < m {
		return false
	}
	for _, mk := range marks[oldest+1:] {
		if mk == markOK {
			return false
		}
	}
	return true
}

func retain(d Decision, current State) Decision {
	d.Retain, d.State = true, current
	return d
}

func alarmIf(b bool) State {
	if b {
		return Alarm
	}
	return OK
}
