-- Queries running now, oldest first; dpcops' own session is left out.
SELECT a.pid,
       coalesce(a.usename, '') AS usename,
       coalesce(a.datname, '') AS datname,
       coalesce(a.application_name, '') AS label,
       extract(epoch FROM a.query_start) AS started,
       extract(epoch FROM now() - a.query_start) AS elapsed,
       left(a.query, 4000) AS query
  FROM pg_stat_activity a
 WHERE a.state = 'active'
   AND a.backend_type = 'client backend'
   AND a.pid <> pg_backend_pid()
 ORDER BY a.query_start
