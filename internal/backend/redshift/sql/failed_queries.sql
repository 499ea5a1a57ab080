-- Queries that failed since $1 (epoch seconds), newest first (the
-- replacement of SVL_QLOG).
SELECT query_id,
       user_id,
       extract(epoch FROM end_time) AS at,
       coalesce(trim(error_message), '') AS error_message,
       left(coalesce(query_text, ''), 1000) AS query
  FROM sys_query_history
 WHERE status = 'failed'
   AND end_time > TIMESTAMP 'epoch' + $1::float8 * INTERVAL '1 second'
 ORDER BY end_time DESC
 LIMIT 100
