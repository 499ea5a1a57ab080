// Package maintain keeps the warehouse's tables healthy: it plans VACUUM
// and ANALYZE from what the engine's statistics say (SVV_TABLE_INFO on
// Redshift Serverless, pg_stat_user_tables on PostgreSQL), runs the plan
// safely (autocommit, one VACUUM at a time, never during a pipeline run,
// under a statement timeout), records every run in the store, and fires the
// spec's maintenance jobs on their cron schedules (in the job's time zone)
// and after pipeline successes.
//
// The three parts share one code path: the Scheduler asks the Runner to run
// a job exactly as `dpcops maintenance run --job NAME` does, and the Runner
// runs what its Planner planned, as `dpcops maintenance plan` shows it.
package maintain
