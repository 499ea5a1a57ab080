-- Query monitoring: client queries running now in this database, oldest
-- first, but this session's. The label is the application_name, which any
-- client sets: dpcops tells its own sessions by session_id (the backend
-- pid), which it knows from its connections. PostgreSQL does not queue
-- queries: queue time is 0. started_key is query_start as text, which
-- identifies the query together with its pid when it is cancelled.
SELECT a.pid AS query_id,
       a.pid AS session_id,
       coalesce(a.usename, '') AS username,
       coalesce(a.datname, '') AS database,
       coalesce(a.application_name, '') AS label,
       a.query_start::text AS started_key,
       extract(epoch FROM a.query_start) AS started,
       extract(epoch FROM now() - a.query_start) AS execution_s,
       0 AS queue_s,
       left(a.query, 4000) AS query
  FROM pg_stat_activity a
 WHERE a.state = 'active'
   AND a.backend_type = 'client backend'
   AND a.datname = current_database()
   AND a.pid <> pg_backend_pid()
   AND a.query_start IS NOT NULL
 ORDER BY a.query_start
