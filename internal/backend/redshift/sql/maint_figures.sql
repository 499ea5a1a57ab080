-- Maintenance: one table's figures ($1 schema, $2 table) from
-- SVV_TABLE_INFO before and after a VACUUM or ANALYZE. No row: the table
-- no longer exists (or is empty and has no blocks yet).
SELECT coalesce(tbl_rows, 0) AS tbl_rows,
       coalesce(estimated_visible_rows, 0) AS visible_rows,
       coalesce(unsorted, 0) AS unsorted_percent,
       coalesce(stats_off, 0) AS stats_off,
       coalesce(size, 0) AS size_mb
  FROM svv_table_info
 WHERE "schema" = $1
   AND "table" = $2
