-- Transaction counters (cumulative), size and client connections of the
-- current database, with the server's clock.
SELECT d.xact_commit,
       d.xact_rollback,
       pg_database_size(current_database()) AS size_bytes,
       (SELECT count(*) FROM pg_stat_activity a
         WHERE a.datname = current_database() AND a.backend_type = 'client backend') AS connections,
       extract(epoch FROM now()) AS now
  FROM pg_stat_database d
 WHERE d.datname = current_database()
