-- Error events: rejected load rows after the cursor ($1 load start time,
-- text with microseconds; $2 file; $3 line), oldest first, so that the
-- rejects of one load beyond a read's limit come in the next.
SELECT to_char(start_time, 'YYYY-MM-DD HH24:MI:SS.US') AS at,
       coalesce(trim(file_name), '') AS file_name,
       coalesce(line_number, 0) AS line_number,
       coalesce(trim(column_name), '') AS column_name,
       coalesce(error_code, 0) AS error_code,
       coalesce(trim(error_message), '') AS error_message
  FROM sys_load_error_detail
 WHERE start_time > $1::timestamp
    OR (start_time = $1::timestamp
        AND (coalesce(trim(file_name), '') > $2
             OR (coalesce(trim(file_name), '') = $2 AND coalesce(line_number, 0) > $3::bigint)))
 ORDER BY start_time, coalesce(trim(file_name), ''), coalesce(line_number, 0)
 LIMIT 500
