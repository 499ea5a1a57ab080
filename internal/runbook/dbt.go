package runbook

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// DBTResult is one failed node of a dbt invocation.
type DBTResult struct {
	UniqueID string  `json:"unique_id"`
	Name     string  `json:"name"`
	Type     string  `json:"resource_type"`
	Status   string  `json:"status"`
	Message  string  `json:"message"`
	Failures *int    `json:"failures,omitempty"`
	Seconds  float64 `json:"execution_time"`
	// Next is the dbt command to re-run the node once its SQL is fixed.
	Next string `json:"next"`
}

// DBTRun is what run_results.json says of the last invocation.
type DBTRun struct {
	Path        string      `json:"path"`
	Schema      string      `json:"schema_version"`
	GeneratedAt time.Time   `json:"generated_at"`
	Command     string      `json:"command,omitempty"`
	Total       int         `json:"total"`
	Failed      []DBTResult `json:"failed"`
	Skipped     int         `json:"skipped"`
}

// runResults is the part of dbt's run_results.json artifact (schema v4 and
// later) that triage reads.
type runResults struct {
	Metadata struct {
		SchemaVersion string    `json:"dbt_schema_version"`
		GeneratedAt   time.Time `json:"generated_at"`
	} `json:"metadata"`
	Results []struct {
		UniqueID      string  `json:"unique_id"`
		Status        string  `json:"status"`
		Message       *string `json:"message"`
		Failures      *int    `json:"failures"`
		ExecutionTime float64 `json:"execution_time"`
	} `json:"results"`
	Args map[string]any `json:"args"`
}

// minRunResultsVersion is the oldest artifact schema read: v4 (dbt 1.0).
const minRunResultsVersion = 4

// ReadRunResults reads dbt's run_results.json and returns its failures,
// each with the command that re-runs it.
func ReadRunResults(path string) (*DBTRun, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("dbt.run_results %s does not exist: has dbt run since the target was cleaned?", path)
	}
	if err != nil {
		return nil, fmt.Errorf("dbt.run_results: %w", err)
	}
	var rr runResults
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&rr); err != nil {
		return nil, fmt.Errorf("dbt.run_results %s is not a run_results.json: %s", path, jsonError(b, err))
	}
	v, ok := schemaVersion(rr.Metadata.SchemaVersion)
	if !ok {
		return nil, fmt.Errorf("dbt.run_results %s: metadata.dbt_schema_version %q is not a run-results schema", path, rr.Metadata.SchemaVersion)
	}
	if v < minRunResultsVersion {
		return nil, fmt.Errorf("dbt.run_results %s: schema v%d is older than v%d (dbt 1.0); upgrade dbt", path, v, minRunResultsVersion)
	}
	run := &DBTRun{Path: path, Schema: fmt.Sprintf("v%d", v), GeneratedAt: rr.Metadata.GeneratedAt, Total: len(rr.Results)}
	if which, ok := rr.Args["which"].(string); ok {
		run.Command = which
	}
	for _, r := range rr.Results {
		switch r.Status {
		case "error", "fail", "runtime error":
		case "skipped":
			run.Skipped++
			continue
		default:
			continue
		}
		kind, name := splitUniqueID(r.UniqueID)
		res := DBTResult{UniqueID: r.UniqueID, Name: name, Type: kind, Status: r.Status, Failures: r.Failures, Seconds: r.ExecutionTime}
		if r.Message != nil {
			res.Message = *r.Message
		}
		res.Next = nextDBTCommand(kind, name)
		run.Failed = append(run.Failed, res)
	}
	sort.SliceStable(run.Failed, func(i, j int) bool { return run.Failed[i].UniqueID < run.Failed[j].UniqueID })
	return run, nil
}

// schemaVersion reads N from ".../run-results/vN.json".
func schemaVersion(url string) (int, bool) {
	i := strings.Index(url, "run-results/v")
	if i < 0 {
		return 0, false
	}
	var v int
	if _, err := fmt.Sscanf(url[i+len("run-results/v"):], "%d.json", &v); err != nil {
		return 0, false
	}
	return v, true
}

// splitUniqueID turns "model.dpc.mart_los_by_dpc" into ("model",
// "mart_los_by_dpc"); a test's id ends in a hash that dbt's selector does
// not take.
func splitUniqueID(id string) (string, string) {
	parts := strings.Split(id, ".")
	if len(parts) < 3 {
		return "", id
	}
	kind := parts[0]
	name := parts[2]
	if kind != "test" {
		name = parts[len(parts)-1]
	}
	return kind, name
}

func nextDBTCommand(kind, name string) string {
	switch kind {
	case "test":
		return "dbt test --select " + name
	case "seed":
		return "dbt seed --select " + name
	case "snapshot":
		return "dbt snapshot --select " + name
	}
	return "dbt run --select " + name
}

// jsonError says where a JSON document went wrong.
func jsonError(b []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + strings.Count(string(b[:min(int(se.Offset), len(b))]), "\n")
		return fmt.Sprintf("line %d: %v", line, err)
	}
	return err.Error()
}
