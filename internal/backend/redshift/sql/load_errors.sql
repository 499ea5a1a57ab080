-- Load error rows (the replacement of STL_LOAD_ERRORS) since $1 (epoch
-- seconds), up to now.
SELECT count(*) AS errors,
       extract(epoch FROM getdate()) AS until
  FROM sys_load_error_detail
 WHERE start_time > TIMESTAMP 'epoch' + $1::float8 * INTERVAL '1 second'
   AND start_time <= getdate()
