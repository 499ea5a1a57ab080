package runbook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dpc-learning/dpcops/internal/backend"
	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/backend/pgwire"
	"github.com/dpc-learning/dpcops/internal/spec"
)

// StartExecutor starts a Step Functions execution.
type StartExecutor interface {
	Executions(ctx context.Context, stateMachineARN string, max int32) ([]aws.Execution, error)
	StartExecution(ctx context.Context, stateMachineARN, name, input string) (string, error)
}

// ErrRunInProgress refuses a re-run while the pipeline runs.
var ErrRunInProgress = errors.New("a pipeline run is in progress")

// Rerunner re-runs the pipeline: StartExecution on Step Functions, or the
// configured local command of a ledger pipeline.
type Rerunner struct {
	Spec      *spec.Spec
	Warehouse backend.Warehouse
	SFN       StartExecutor
	Now       func() time.Time
	// Timeout bounds a local command (default 30 minutes).
	Timeout time.Duration
}

// Rerun refuses while a run is in progress, else starts one and returns
// what it started.
func (r *Rerunner) Rerun(ctx context.Context) (string, error) {
	p := r.Spec.Pipeline
	if !p.Rerun {
		return "", errors.New("pipeline.rerun is false: dpcops may not re-run the pipeline")
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	switch p.Kind {
	case spec.PipelineStepFunctions:
		if r.SFN == nil {
			return "", errors.New("no AWS client to start the Step Functions execution")
		}
		xs, err := r.SFN.Executions(ctx, p.StateMachineARN, 10)
		if err != nil {
			return "", err
		}
		if slices.ContainsFunc(xs, func(x aws.Execution) bool { return x.Status == "RUNNING" }) {
			return "", fmt.Errorf("%w: an execution of %s is RUNNING", ErrRunInProgress, p.StateMachineARN)
		}
		name := "dpcops-rerun-" + now().UTC().Format("20060102T150405Z")
		return r.SFN.StartExecution(ctx, p.StateMachineARN, name, p.RerunInput)
	default:
		return r.rerunLedger(ctx)
	}
}

func (r *Rerunner) rerunLedger(ctx context.Context) (string, error) {
	p := r.Spec.Pipeline
	if len(p.RerunCommand) == 0 {
		return "", errors.New("pipeline.rerun_command is not set: dpcops does not know how to start this pipeline")
	}
	if r.Warehouse != nil {
		snap, err := r.Warehouse.Snapshot(ctx, backend.Want{Pipeline: true, PipelineName: p.Name})
		if err != nil {
			return "", fmt.Errorf("cannot tell whether a run is in progress: %w", err)
		}
		if e := snap.Errors["pipeline"]; e != nil {
			return "", fmt.Errorf("cannot tell whether a run is in progress: %w", e)
		}
		if snap.Pipeline.Running {
			return "", fmt.Errorf("%w: ops.pipeline_runs has a run of %s with status running", ErrRunInProgress, p.Name)
		}
	}
	timeout := r.Timeout
	if timeout == 0 {
		timeout = 30 * time.Minute
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(cctx, p.RerunCommand[0], p.RerunCommand[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w: %s", strings.Join(p.RerunCommand, " "), err, tail(out.String(), 500))
	}
	return "ran " + strings.Join(p.RerunCommand, " "), nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// OffloadStep is one statement of an offload plan.
type OffloadStep struct {
	Table     string `json:"table"`
	Statement string `json:"statement"`
	Why       string `json:"why"`
}

// dateColumnPreference orders the date columns an offload keys on: the
// DPC tables' own first.
var dateColumnPreference = []string{"service_date", "discharge_date", "admission_date", "start_time", "created_at", "updated_at"}

// OffloadPlan writes the SQL that moves rows older than months to S3 and
// reads them back through Redshift Spectrum: UNLOAD, an external table,
// the DELETE and a VACUUM DELETE ONLY. It only prints; a person runs it.
func OffloadPlan(tables []backend.Table, cols []backend.Column, months int, s3Prefix, iamRole string) []OffloadStep {
	byTable := map[string][]backend.Column{}
	for _, c := range cols {
		k := c.Schema + "." + c.Table
		byTable[k] = append(byTable[k], c)
	}
	tables = slices.Clone(tables)
	sort.SliceStable(tables, func(i, j int) bool { return tables[i].SizeMB > tables[j].SizeMB })
	var out []OffloadStep
	for _, t := range tables {
		key := t.Schema + "." + t.Name
		col := dateColumn(byTable[key])
		if col == "" {
			continue
		}
		q := pgwire.QualifiedName(t.Schema, t.Name)
		cond := fmt.Sprintf("%s < DATEADD(month, -%d, GETDATE())", pgwire.QuoteIdent(col), months)
		loc := strings.TrimSuffix(s3Prefix, "/") + "/" + t.Schema + "/" + t.Name + "/"
		why := fmt.Sprintf("%.0f MB; rows with %s older than %d months", t.SizeMB, col, months)
		out = append(out,
			OffloadStep{key, fmt.Sprintf("UNLOAD (%s) TO %s IAM_ROLE %s FORMAT AS PARQUET;",
				pgwire.QuoteLiteral("SELECT * FROM "+q+" WHERE "+cond), pgwire.QuoteLiteral(loc), pgwire.QuoteLiteral(iamRole)), why},
			OffloadStep{key, fmt.Sprintf("CREATE EXTERNAL TABLE spectrum.%s (%s) STORED AS PARQUET LOCATION %s;",
				pgwire.QuoteIdent(t.Schema+"_"+t.Name), columnList(byTable[key]), pgwire.QuoteLiteral(loc)), "read the offloaded rows through Spectrum"},
			OffloadStep{key, fmt.Sprintf("DELETE FROM %s WHERE %s;", q, cond), "after the UNLOAD is verified"},
			OffloadStep{key, fmt.Sprintf("VACUUM DELETE ONLY %s;", q), "reclaim the space of the deleted rows"},
		)
	}
	return out
}

func dateColumn(cols []backend.Column) string {
	var found []string
	for _, c := range cols {
		if strings.HasPrefix(c.Type, "date") || strings.HasPrefix(c.Type, "timestamp") {
			found = append(found, c.Name)
		}
	}
	for _, pref := range dateColumnPreference {
		if slices.Contains(found, pref) {
			return pref
		}
	}
	if len(found) > 0 {
		return found[0]
	}
	return ""
}

func columnList(cols []backend.Column) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = pgwire.QuoteIdent(c.Name) + " " + spectrumType(c.Type)
	}
	return strings.Join(parts, ", ")
}

// spectrumType maps a column type to one Spectrum's Parquet tables take.
func spectrumType(t string) string {
	switch {
	case strings.HasPrefix(t, "timestamp"):
		return "timestamp"
	case t == "date":
		return "date"
	case t == "integer", t == "smallint":
		return "int"
	case t == "bigint":
		return "bigint"
	case strings.HasPrefix(t, "numeric"), t == "double precision", t == "real":
		return "double precision"
	case t == "boolean":
		return "boolean"
	}
	return "varchar(65535)"
}
