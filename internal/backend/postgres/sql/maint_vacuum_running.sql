-- Maintenance: VACUUMs (plain or FULL) that other client sessions run now
-- in this database. Autovacuum workers are not counted: they give way to
-- a manual VACUUM's lock.
SELECT count(*) AS running
  FROM pg_stat_activity a
 WHERE a.datname = current_database()
   AND a.backend_type = 'client backend'
   AND a.pid <> pg_backend_pid()
   AND (a.pid IN (SELECT v.pid FROM pg_stat_progress_vacuum v)
        OR a.pid IN (SELECT c.pid FROM pg_stat_progress_cluster c WHERE c.command = 'VACUUM FULL'))
