-- Capacity report: how much queries queued from $1 to $2 (epoch seconds),
-- from SYS_QUERY_HISTORY's queue_time (microseconds).
SELECT count(*) AS queries,
       coalesce(sum(CASE WHEN queue_time > 0 THEN 1 ELSE 0 END), 0) AS queued,
       coalesce(sum(queue_time), 0) / 1000000.0 AS queue_seconds,
       coalesce(max(queue_time), 0) / 1000000.0 AS max_queue_seconds
  FROM sys_query_history
 WHERE start_time >= TIMESTAMP 'epoch' + $1::float8 * INTERVAL '1 second'
   AND start_time < TIMESTAMP 'epoch' + $2::float8 * INTERVAL '1 second'
