-- Query monitoring: queries in progress (SYS_QUERY_HISTORY), oldest first,
-- but this session's. The label is query_label, which any session sets
-- (SET query_group): dpcops tells its own sessions by session_id, the
-- pg_backend_pid() of the session, which it knows from its connections. A
-- queued query has queued for all its elapsed time and executed for none;
-- a running one has executed for its elapsed time less its queue time.
SELECT query_id,
       session_id,
       user_id,
       database_name,
       coalesce(query_label, '') AS label,
       query_id::varchar AS started_key,
       extract(epoch FROM start_time) AS started,
       CASE WHEN status = 'queued' THEN 0
            ELSE greatest(0, extract(epoch FROM getdate()) - extract(epoch FROM start_time) - coalesce(queue_time, 0) / 1000000.0)
       END AS execution_s,
       CASE WHEN status = 'queued' THEN extract(epoch FROM getdate()) - extract(epoch FROM start_time)
            ELSE coalesce(queue_time, 0) / 1000000.0
       END AS queue_s,
       left(query_text, 4000) AS query
  FROM sys_query_history
 WHERE status IN ('planning', 'queued', 'running', 'returning')
   AND session_id <> pg_backend_pid()
 ORDER BY start_time
