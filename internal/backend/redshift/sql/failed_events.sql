-- Error events: queries that failed after the cursor ($1 end time, text
-- with microseconds; $2 query id), oldest first, so that each read goes on
-- from the last row of the one before. The time is text too: Redshift's
-- EXTRACT(epoch) is whole seconds, too coarse to tell queries apart.
SELECT query_id,
       user_id,
       to_char(end_time, 'YYYY-MM-DD HH24:MI:SS.US') AS at,
       coalesce(trim(error_message), '') AS error_message,
       left(coalesce(query_text, ''), 1000) AS query
  FROM sys_query_history
 WHERE status = 'failed'
   AND (end_time > $1::timestamp
        OR (end_time = $1::timestamp AND query_id > $2::bigint))
 ORDER BY end_time, query_id
 LIMIT 500
