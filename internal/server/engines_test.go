package server

import (
	"github.com/dpc-learning/dpcops/internal/backend/aws"
	"github.com/dpc-learning/dpcops/internal/collect"
	"github.com/dpc-learning/dpcops/internal/lease"
	"github.com/dpc-learning/dpcops/internal/maintain"
	"github.com/dpc-learning/dpcops/internal/runbook"
)

// The one AWS client serves the collector, the re-runner, triage,
// maintenance and the capacity lease: it must keep every interface they ask of it.
var (
	_ runbook.StartExecutor  = (*aws.Client)(nil)
	_ runbook.StepFunctions  = (*aws.Client)(nil)
	_ maintain.StepFunctions = (*aws.Client)(nil)
	_ lease.Executions       = (*aws.Client)(nil)
	_ collect.Publisher      = (*aws.Client)(nil)
)
