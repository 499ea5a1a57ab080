-- The columns of every user table (SVV_COLUMNS is allowed on Serverless).
SELECT table_schema, table_name, column_name, data_type
  FROM svv_columns
 WHERE table_schema NOT IN ('pg_catalog', 'information_schema', 'ops')
   AND table_schema NOT LIKE 'pg_%'
 ORDER BY table_schema, table_name, ordinal_position
