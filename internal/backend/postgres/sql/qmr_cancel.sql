-- Query monitoring: cancel the query of backend $1 if it is still the one
-- that started at $2, so that a backend whose query ended (or which runs
-- another query now) is left alone. No row: the query had ended.
SELECT pg_cancel_backend(a.pid) AS cancelled
  FROM pg_stat_activity a
 WHERE a.pid = $1::int
   AND a.query_start = $2::timestamptz
   AND a.state = 'active'
