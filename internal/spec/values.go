package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Duration is a span written as a Go duration ("90s", "5m", "1h30m"), with
// "d" for days ("15d"), or as a bare number of seconds (300), as CloudWatch
// writes periods.
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Seconds returns the duration in whole seconds.
func (d Duration) Seconds() int64 { return int64(time.Duration(d) / time.Second) }

func (d Duration) String() string {
	td := time.Duration(d)
	if td != 0 && td%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(td/(24*time.Hour)), 10) + "d"
	}
	s := td.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// ParseDuration parses the duration syntax of the spec.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("negative duration %q", s)
		}
		if n > math.MaxInt64/int64(time.Second) {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		return Duration(time.Duration(n) * time.Second), nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n < 0 || n > 100000 {
			return 0, fmt.Errorf("invalid duration %q (use e.g. 90s, 5m, 1h, 15d)", s)
		}
		return Duration(time.Duration(n) * 24 * time.Hour), nil
	}
	td, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 90s, 5m, 1h, 15d)", s)
	}
	if td < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return Duration(td), nil
}

// Secret is a value that must never reach a log, an error or an API
// answer: it prints as "<redacted>". Reveal returns the value itself.
type Secret string

const redacted = "<redacted>"

// Reveal returns the secret's value, for the one place that uses it.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// LogValue keeps slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON keeps encoding/json from printing the value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// Enabled is the value of an `enabled` key: true (the default), false, or
// if-set, which turns the part off when one of its ${VAR}s is unset.
type Enabled struct {
	mode    string
	missing []string
}

// Enabled modes as written in the spec.
const (
	EnabledTrue  = "true"
	EnabledFalse = "false"
	EnabledIfSet = "if-set"
)

// NewEnabled returns an Enabled with the given mode.
func NewEnabled(mode string) Enabled { return Enabled{mode: mode} }

// On reports whether the part is enabled.
func (e Enabled) On() bool {
	return e.mode != EnabledFalse && len(e.missing) == 0
}

// Mode returns the mode as written ("" when the key is absent).
func (e Enabled) Mode() string { return e.mode }

// Missing lists the unset variables that turned an if-set part off.
func (e Enabled) Missing() []string { return e.missing }

// Reason says why a part is off, for logs and the UI.
func (e Enabled) Reason() string {
	switch {
	case e.mode == EnabledFalse:
		return "enabled: false"
	case len(e.missing) > 0:
		return "enabled: if-set, and " + strings.Join(e.missing, ", ") + " not set"
	}
	return ""
}

// Label is one name=value pair of an ordered mapping.
type Label struct {
	Name  string
	Value string
}

// Labels is a mapping that keeps the order it was written in (dimensions,
// headers, endpoints).
type Labels []Label

// Get returns the value of name.
func (ls Labels) Get(name string) (string, bool) {
	for _, l := range ls {
		if l.Name == name {
			return l.Value, true
		}
	}
	return "", false
}

// Map returns the labels as a map.
func (ls Labels) Map() map[string]string {
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[l.Name] = l.Value
	}
	return m
}

// Canonical returns "k=v;k=v" sorted by name: the key of a series.
func (ls Labels) Canonical() string {
	if len(ls) == 0 {
		return ""
	}
	sorted := append(Labels(nil), ls...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var b strings.Builder
	for i, l := range sorted {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(l.Value)
	}
	return b.String()
}

// MetricRow is one row of a CloudWatch metric widget's metrics array:
// [Namespace, MetricName, DimName, DimValue, ..., {options}], where "."
// repeats the previous row's element, or [{expression, label, id}].
type MetricRow struct {
	Namespace  string
	MetricName string
	Dimensions Labels
	Expression string
	Options    RowOptions
	pos        Pos
}

// RowOptions are the rendering options of a metric row.
type RowOptions struct {
	ID      string   `yaml:"id"`
	Label   string   `yaml:"label"`
	Stat    string   `yaml:"stat"`
	Period  Duration `yaml:"period"`
	Color   string   `yaml:"color"`
	YAxis   string   `yaml:"yAxis"`
	Visible *bool    `yaml:"visible"`
}
