-- Error events: rejected load rows after the cursor ($1 time in UTC, text
-- with microseconds; $2 file; $3 line), oldest first.
SELECT to_char(start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS at,
       coalesce(file_name, '') AS file_name,
       coalesce(line_number, 0) AS line_number,
       coalesce(column_name, '') AS column_name,
       coalesce(error_code, 0) AS error_code,
       coalesce(error_message, '') AS error_message
  FROM ops.load_errors
 WHERE start_time > ($1::timestamp AT TIME ZONE 'UTC')
    OR (start_time = ($1::timestamp AT TIME ZONE 'UTC')
        AND (coalesce(file_name, '') > $2
             OR (coalesce(file_name, '') = $2 AND coalesce(line_number, 0) > $3::bigint)))
 ORDER BY start_time, coalesce(file_name, ''), coalesce(line_number, 0)
 LIMIT 500
