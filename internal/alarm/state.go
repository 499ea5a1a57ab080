package alarm

import (
	"fmt"
	"math"
)

// State is an alarm state, as CloudWatch names it.
type State string

// The three alarm states.
const (
	OK               State = "OK"
	Alarm            State = "ALARM"
	InsufficientData State = "INSUFFICIENT_DATA"
)

// Comparison is a CloudWatch comparison operator: the period's value is the
// left operand, the threshold the right one.
type Comparison int

// The four operators.
const (
	GreaterThan Comparison = iota + 1
	GreaterThanOrEqual
	LessThan
	LessThanOrEqual
)

var comparisonNames = map[string]Comparison{
	"GreaterThanThreshold":          GreaterThan,
	"GreaterThanOrEqualToThreshold": GreaterThanOrEqual,
	"LessThanThreshold":             LessThan,
	"LessThanOrEqualToThreshold":    LessThanOrEqual,
}

// ParseComparison parses a CloudWatch operator name.
func ParseComparison(s string) (Comparison, error) {
	c, ok := comparisonNames[s]
	if !ok {
		return 0, fmt.Errorf("unknown comparison %q", s)
	}
	return c, nil
}

// Breaches reports whether v crosses threshold. NaN (missing) never does.
func (c Comparison) Breaches(v, threshold float64) bool {
	switch c {
	case GreaterThan:
		return v > threshold
	case GreaterThanOrEqual:
		return v >= threshold
	case LessThan:
		return v < threshold
	case LessThanOrEqual:
		return v <= threshold
	}
	return false
}

// phrase is the operator as CloudWatch's state reasons write it.
func (c Comparison) phrase() string {
	switch c {
	case GreaterThan:
		return "greater than"
	case GreaterThanOrEqual:
		return "greater than or equal to"
	case LessThan:
		return "less than"
	case LessThanOrEqual:
		return "less than or equal to"
	}
	return "?"
}

// Missing is how an alarm treats periods without data.
type Missing int

// The four treatments.
const (
	TreatMissing Missing = iota + 1
	TreatIgnore
	TreatBreaching
	TreatNotBreaching
)

var missingNames = map[string]Missing{
	"missing":      TreatMissing,
	"ignore":       TreatIgnore,
	"breaching":    TreatBreaching,
	"notBreaching": TreatNotBreaching,
}

// ParseMissing parses a treat_missing_data value; "" is missing, the
// default.
func ParseMissing(s string) (Missing, error) {
	if s == "" {
		return TreatMissing, nil
	}
	m, ok := missingNames[s]
	if !ok {
		return 0, fmt.Errorf("unknown treat_missing_data %q", s)
	}
	return m, nil
}

func (m Missing) String() string {
	for k, v := range missingNames {
		if v == m {
			return k
		}
	}
	return "?"
}

// mark classifies one period of an evaluation range.
type mark int8

const (
	markMissing mark = iota
	markOK
	markBreach
)

func classify(c Comparison, v, threshold float64) mark {
	switch {
	case math.IsNaN(v):
		return markMissing
	case c.Breaches(v, threshold):
		return markBreach
	}
	return markOK
}
