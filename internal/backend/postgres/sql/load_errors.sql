-- Load error rows recorded since $1 (epoch seconds), up to now.
SELECT count(*) AS errors,
       extract(epoch FROM now()) AS until
  FROM ops.load_errors
 WHERE start_time > to_timestamp($1::double precision)
   AND start_time <= now()
