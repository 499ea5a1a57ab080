-- The runs of pipeline $1 that started after $2 (epoch seconds), newest first.
SELECT id,
       pipeline,
       extract(epoch FROM started_at) AS started,
       extract(epoch FROM finished_at) AS finished,
       status,
       coalesce(failed_step, '') AS failed_step,
       coalesce(error, '') AS error
  FROM ops.pipeline_runs
 WHERE pipeline = $1
   AND started_at > to_timestamp($2::double precision)
 ORDER BY started_at DESC
 LIMIT 50
