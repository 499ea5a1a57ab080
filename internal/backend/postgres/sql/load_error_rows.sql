-- Rejected load rows since $1 (epoch seconds), newest first.
SELECT extract(epoch FROM start_time) AS at,
       coalesce(file_name, '') AS file_name,
       coalesce(line_number, 0) AS line_number,
       coalesce(column_name, '') AS column_name,
       coalesce(error_code, 0) AS error_code,
       coalesce(error_message, '') AS error_message
  FROM ops.load_errors
 WHERE start_time > to_timestamp($1::double precision)
 ORDER BY start_time DESC, file_name, line_number
 LIMIT 500
