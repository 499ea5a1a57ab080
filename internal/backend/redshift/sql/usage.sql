-- Serverless compute usage since $1 (epoch seconds), from the 1-minute rows
-- of SYS_SERVERLESS_USAGE (kept 7 days; superuser only).
SELECT coalesce(sum(compute_seconds), 0) AS compute_seconds,
       coalesce(sum(charged_seconds), 0) AS charged_seconds,
       extract(epoch FROM getdate()) AS until
  FROM sys_serverless_usage
 WHERE end_time > TIMESTAMP 'epoch' + $1::float8 * INTERVAL '1 second'
