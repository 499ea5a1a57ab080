-- Per-table health from the statistics collector. The size is the
-- planner's page count (as of the last VACUUM or ANALYZE), not
-- pg_total_relation_size: that one waits for a table held exclusively
-- (VACUUM FULL, ALTER TABLE), which would stall the whole cycle.
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
