-- Maintenance: one table's figures ($1 schema, $2 table) before and after
-- a VACUUM or ANALYZE. No row: the table no longer exists. The size is the
-- heap's pages as the catalog last counted them (VACUUM and ANALYZE do):
-- reading it takes no lock, so a table another session holds exclusively
-- is still measured, and its statement then meets the lock timeout.
SELECT t.n_live_tup AS live_rows,
       t.n_dead_tup AS dead_rows,
       t.n_mod_since_analyze AS modified_since_analyze,
       c.relpages::bigint * current_setting('block_size')::bigint / 1048576.0 AS size_mb,
       t.vacuum_count + t.autovacuum_count AS vacuums,
       t.analyze_count + t.autoanalyze_count AS analyzes
  FROM pg_stat_user_tables t
  JOIN pg_class c ON c.oid = t.relid
 WHERE t.schemaname = $1
   AND t.relname = $2
