// Package runbook is the platform's runbook in code: triage gathers in one
// report what the on-call engineer would otherwise read in six consoles
// (alarms, the pipeline's failed step, load errors by file, failed and
// long queries, dbt failures, storage and compute trends), each finding
// with the next command to run; incidents keep one record per alarm
// episode with its timeline, and export it as Markdown that Confluence and
// Notion both import.
package runbook
