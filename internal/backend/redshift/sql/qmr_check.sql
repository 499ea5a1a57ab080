-- Query monitoring: the session of query $1 if it is still in progress.
-- No row: the query has ended and there is nothing to cancel.
SELECT session_id
  FROM sys_query_history
 WHERE query_id = $1::bigint
   AND status IN ('planning', 'queued', 'running', 'returning')
