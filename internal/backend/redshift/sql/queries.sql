-- Queries that finished since $1 (epoch seconds), by outcome.
SELECT coalesce(sum(CASE WHEN status = 'success' THEN 1 ELSE 0 END), 0) AS succeeded,
       coalesce(sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) AS failed,
       extract(epoch FROM getdate()) AS until
  FROM sys_query_history
 WHERE end_time > TIMESTAMP 'epoch' + $1::float8 * INTERVAL '1 second'
   AND end_time <= getdate()
