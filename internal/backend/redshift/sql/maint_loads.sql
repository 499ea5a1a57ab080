-- Maintenance: rows loaded by COPY into each table since its last ANALYZE
-- (SYS_LOAD_HISTORY, SYS_ANALYZE_HISTORY; superuser or sys:monitor). A
-- table with no load since then has no row. SYS_LOAD_HISTORY names a table
-- without its schema: a name used in two schemas counts the loads of both.
WITH analyzed AS (
    SELECT table_id, max(end_time) AS last_analyze
      FROM sys_analyze_history
     WHERE trim(status) <> 'Skipped'
     GROUP BY table_id
)
SELECT t."schema",
       t."table",
       sum(l.loaded_rows) AS rows_loaded
  FROM svv_table_info t
  LEFT JOIN analyzed a ON a.table_id = t.table_id
  JOIN sys_load_history l
    ON trim(l.table_name) = t."table"
   AND trim(l.status) = 'completed'
   AND l.end_time > coalesce(a.last_analyze, TIMESTAMP '1970-01-01')
 GROUP BY t."schema", t."table"
