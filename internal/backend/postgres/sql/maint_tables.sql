-- Maintenance: every user table's statistics for the planner. Like
-- tables.sql, but the size is the catalog's page count (no lock taken), so
-- that a table another session holds exclusively does not stall planning.
SELECT t.schemaname,
       t.relname,
       t.n_live_tup,
       t.n_dead_tup,
       t.n_mod_since_analyze,
       c.relpages::bigint * current_setting('block_size')::bigint / 1048576.0 AS size_mb,
       extract(epoch FROM greatest(t.last_vacuum, t.last_autovacuum)) AS last_vacuum,
       extract(epoch FROM greatest(t.last_analyze, t.last_autoanalyze)) AS last_analyze
  FROM pg_stat_user_tables t
  JOIN pg_class c ON c.oid = t.relid
 ORDER BY t.schemaname, t.relname
