-- Rejected load rows (the replacement of STL_LOAD_ERRORS) since $1 (epoch
-- seconds), newest first.
SELECT extract(epoch FROM start_time) AS at,
       coalesce(trim(file_name), '') AS file_name,
       coalesce(line_number, 0) AS line_number,
       coalesce(trim(column_name), '') AS column_name,
       coalesce(error_code, 0) AS error_code,
       coalesce(trim(error_message), '') AS error_message
  FROM sys_load_error_detail
 WHERE start_time > TIMESTAMP 'epoch' + $1::float8 * INTERVAL '1 second'
 ORDER BY start_time DESC, file_name, line_number
 LIMIT 500
