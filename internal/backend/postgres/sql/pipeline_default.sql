-- Makes the spec's pipeline.name the default of ops.pipeline_runs.pipeline,
-- so that a loader may write only started_at, finished_at, status,
-- failed_step and error. dpcops warehouse init runs it after init.sql, with
-- the name as a quoted literal in place of the comment after DEFAULT; run
-- again, or with another name, it sets the default anew.
ALTER TABLE ops.pipeline_runs ALTER COLUMN pipeline SET DEFAULT /* pipeline */;
