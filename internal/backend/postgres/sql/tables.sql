-- Per-table health from the statistics collector.
SELECT t.schemaname,
       t.relname,
       t.n_live_tup,
       t.n_dead_tup,
       t.n_mod_since_analyze,
       pg_total_relation_size(t.relid) / 1048576.0 AS size_mb,
       extract(epoch FROM greatest(t.last_vacuum, t.last_autovacuum)) AS last_vacuum,
       extract(epoch FROM greatest(t.last_analyze, t.last_autoanalyze)) AS last_analyze
  FROM pg_stat_user_tables t
 ORDER BY t.schemaname, t.relname
