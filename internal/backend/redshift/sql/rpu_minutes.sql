-- The RPUs in use in each minute since $1 (epoch seconds): the per-minute
-- rows of SYS_SERVERLESS_USAGE (compute_capacity is the minute's average;
-- kept 7 days; visible to superusers only). CloudWatch's ComputeCapacity
-- is a 30-minute average, too slow for "over 28 RPU for 5 minutes".
SELECT extract(epoch FROM start_time) AS minute, compute_capacity
  FROM sys_serverless_usage
 WHERE start_time >= TIMESTAMP 'epoch' + $1::float8 * INTERVAL '1 second'
   AND end_time <= getdate()
 ORDER BY start_time
