-- The ledger of pipeline $1: its last success, its first start, and
-- whether a run is open.
SELECT extract(epoch FROM max(finished_at) FILTER (WHERE status = 'succeeded')) AS last_success,
       extract(epoch FROM min(started_at)) AS first_start,
       coalesce(bool_or(status = 'running'), false) AS running
  FROM ops.pipeline_runs
 WHERE pipeline = $1
