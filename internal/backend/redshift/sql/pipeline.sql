-- The ledger of pipeline $1: last success, first start, a run open.
SELECT extract(epoch FROM max(CASE WHEN status = 'succeeded' THEN finished_at END)) AS last_success,
       extract(epoch FROM min(started_at)) AS first_start,
       coalesce(max(CASE WHEN status = 'running' THEN 1 ELSE 0 END), 0) AS running
  FROM ops.pipeline_runs
 WHERE pipeline = $1
