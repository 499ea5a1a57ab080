-- Capacity report: serverless usage per minute from $1 to $2 (epoch
-- seconds), from SYS_SERVERLESS_USAGE (kept 7 days; superuser).
-- charged_seconds includes the 60-second minimum of each use: it is what
-- the bill counts.
SELECT extract(epoch FROM start_time) AS started,
       extract(epoch FROM end_time) - extract(epoch FROM start_time) AS seconds,
       coalesce(compute_capacity, 0) AS capacity,
       coalesce(compute_seconds, 0) AS compute_seconds,
       coalesce(charged_seconds, 0) AS charged_seconds
  FROM sys_serverless_usage
 WHERE start_time >= TIMESTAMP 'epoch' + $1::float8 * INTERVAL '1 second'
   AND start_time < TIMESTAMP 'epoch' + $2::float8 * INTERVAL '1 second'
 ORDER BY start_time
