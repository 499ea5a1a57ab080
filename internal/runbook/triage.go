package runbook

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/alarm"
	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/spec"
	"github.com/dpc-learning/dpcops/internal/store"
)

// StepFunctions is what triage asks of Step Functions.
type StepFunctions interface {
	Executions(ctx context.Context, stateMachineARN string, max int32) ([]aws.Execution, error)
	FailedStep(ctx context.Context, executionARN string) (*aws.Failure, error)
}

// AlarmReader is what triage asks of the alarm engine.
type AlarmReader interface {
	States(ctx context.Context) ([]alarm.Status, error)
	History(ctx context.Context, alarm string, limit int) ([]alarm.Transition, error)
}

// Sources are where triage looks. Only Spec, Store and Alarms are needed;
// a missing source is noted in the report's problems, not an error.
type Sources struct {
	Spec      *spec.Spec
	Store     *store.Store
	Alarms    AlarmReader
	Warehouse backend.Warehouse
	SFN       StepFunctions
	// Running lists the queries running now.
	Running func(ctx context.Context) ([]backend.RunningQuery, error)
	Now     func() time.Time
}

// Report is the runbook's first step in one document. Its JSON form is
// stable: docs/runbook.md describes every field.
type Report struct {
	Generated   time.Time              `json:"generated_at"`
	Since       time.Time              `json:"since"`
	Platform    string                 `json:"platform"`
	Environment string                 `json:"environment"`
	Findings    []Finding              `json:"findings"`
	Alarms      []AlarmNow             `json:"alarms"`
	Pipeline    *PipelineState         `json:"pipeline,omitempty"`
	LoadErrors  []FileErrors           `json:"load_errors"`
	Failed      []backend.FailedQuery  `json:"failed_queries"`
	Long        []backend.RunningQuery `json:"long_queries"`
	DBT         *DBTRun                `json:"dbt,omitempty"`
	Trends      []Trend                `json:"trends"`
	Problems    []string               `json:"problems"`
}

// Finding is one cause, with the next command to run.
type Finding struct {
	Severity string `json:"severity"`
	Area     string `json:"area"`
	Title    string `json:"title"`
	Detail   string `json:"detail,omitempty"`
	Next     string `json:"next"`
}

// AlarmNow is an alarm in ALARM with its recent transitions.
type AlarmNow struct {
	Name        string             `json:"name"`
	Severity    string             `json:"severity"`
	Since       time.Time          `json:"since"`
	Reason      string             `json:"reason"`
	Episode     int64              `json:"episode"`
	Transitions []alarm.Transition `json:"transitions"`
}

// PipelineState is the pipeline's recent runs and its latest failure.
type PipelineState struct {
	Name       string                `json:"name"`
	Runs       []backend.PipelineRun `json:"runs"`
	FailedStep string                `json:"failed_step,omitempty"`
	Error      string                `json:"error,omitempty"`
}

// FileErrors groups rejected rows by file.
type FileErrors struct {
	File     string                 `json:"file"`
	Rows     int                    `json:"rows"`
	Examples []backend.LoadErrorRow `json:"examples"`
}

// Trend is how a metric moved over the report's window.
type Trend struct {
	Metric string  `json:"metric"`
	Unit   string  `json:"unit"`
	First  float64 `json:"first"`
	Last   float64 `json:"last"`
	Max    float64 `json:"max"`
}

// Triage gathers the report for the window since now − since.
func Triage(ctx context.Context, src Sources, since time.Duration) (*Report, error) {
	now := time.Now
	if src.Now != nil {
		now = src.Now
	}
	t := now().UTC()
	r := &Report{Generated: t, Since: t.Add(-since), Platform: src.Spec.Platform, Environment: src.Spec.Environment,
		Findings: []Finding{}, Alarms: []AlarmNow{}, LoadErrors: []FileErrors{}, Failed: []backend.FailedQuery{},
		Long: []backend.RunningQuery{}, Trends: []Trend{}, Problems: []string{}}
	if err := r.alarms(ctx, src); err != nil {
		return nil, err
	}
	r.warehouse(ctx, src)
	r.stepFunctions(ctx, src)
	r.logErrors(ctx, src)
	r.longQueries(ctx, src)
	r.dbt(src)
	r.trends(ctx, src)
	sort.SliceStable(r.Findings, func(i, j int) bool {
		return severityRank(r.Findings[i].Severity) < severityRank(r.Findings[j].Severity)
	})
	return r, nil
}

func severityRank(s string) int {
	for i, x := range spec.Severities {
		if x == s {
			return i
		}
	}
	return len(spec.Severities)
}

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

func (r *Report) alarms(ctx context.Context, src Sources) error {
	states, err := src.Alarms.States(ctx)
	if err != nil {
		return fmt.Errorf("alarm states: %w", err)
	}
	for _, st := range states {
		if st.State != alarm.Alarm {
			continue
		}
		a, _ := src.Spec.Alarm(st.Alarm)
		hist, err := src.Alarms.History(ctx, st.Alarm, 10)
		if err != nil {
			return fmt.Errorf("alarm history: %w", err)
		}
		an := AlarmNow{Name: st.Alarm, Since: st.ChangedAt, Reason: st.Reason, Episode: st.Episode, Transitions: hist}
		if a != nil {
			an.Severity = a.Severity
		}
		r.Alarms = append(r.Alarms, an)
		r.Findings = append(r.Findings, alarmFinding(src.Spec, a, an))
	}
	return nil
}

// alarmFinding says what the runbook says for an alarm in ALARM.
func alarmFinding(s *spec.Spec, a *spec.Alarm, an AlarmNow) Finding {
	f := Finding{Severity: an.Severity, Area: "alarm", Title: an.Name + " is in ALARM", Detail: an.Reason,
		Next: "dpcops incidents list"}
	if a == nil {
		return f
	}
	src := a.Metric + a.Expression
	switch {
	case slices.Contains(a.Actions, "rerun-pipeline") || a.Metric == "ELTExecutionDelay":
		f.Next = "dpcops recover rerun-pipeline"
	case a.Metric == "CopyErrorCount":
		f.Next = "fix or re-upload the rejected files (see load errors), then dpcops recover rerun-pipeline"
	case isCompute(s, a.Metric):
		// The compute in use, per minute or as AWS averages it.
		f.Next = "dpcops recover cancel-query ID (see long queries)"
	case strings.Contains(src, "DataStorage"):
		f.Next = "dpcops recover offload-plan --older-than 24mo"
	case strings.Contains(src, "QueriesFailed"):
		f.Next = "review the failing SQL (see failed queries)"
	}
	return f
}

// isCompute says whether the spec metric name is the compute in use.
func isCompute(s *spec.Spec, name string) bool {
	m, ok := s.Metric(name)
	return ok && (m.Source == "compute_capacity" || m.Source == "rpu_minute")
}
