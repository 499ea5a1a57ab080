-- Per-table health from SVV_TABLE_INFO (allowed on Serverless; it replaces
-- STV_BLOCKLIST for unused space).
SELECT "schema",
       "table",
       coalesce(tbl_rows, 0) AS tbl_rows,
       coalesce(estimated_visible_rows, 0) AS visible_rows,
       coalesce(size, 0) AS size_mb,
       coalesce(unsorted, 0) AS unsorted,
       coalesce(stats_off, 0) AS stats_off,
       coalesce(skew_rows, 1) AS skew_rows
  FROM svv_table_info
 ORDER BY "schema", "table"
