-- Queries in progress (the replacement of STV_RECENTS), oldest first;
-- dpcops' own session is left out. Times in SYS views are UTC.
SELECT query_id,
       session_id,
       user_id,
       database_name,
       coalesce(query_label, '') AS label,
       extract(epoch FROM start_time) AS started,
       extract(epoch FROM getdate()) - extract(epoch FROM start_time) AS elapsed,
       coalesce(queue_time, 0) / 1000000.0 AS queue_seconds,
       left(query_text, 4000) AS query
  FROM sys_query_history
 WHERE status IN ('planning', 'queued', 'running', 'returning')
   AND session_id <> pg_backend_pid()
 ORDER BY start_time
