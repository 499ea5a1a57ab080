-- Maintenance: manual VACUUMs running now, from SYS_VACUUM_HISTORY (not
-- ended, started within the last day) and SYS_QUERY_HISTORY (a VACUUM
-- statement in progress in another session). Redshift runs one VACUUM at a
-- time; automatic vacuums give way and are not counted.
SELECT (SELECT count(*)
          FROM sys_vacuum_history
         WHERE end_time IS NULL
           AND NOT is_automatic
           AND trim(status) NOT IN ('Failed', 'Complete', 'Skipped')
           AND start_time > getdate() - INTERVAL '1 day')
     + (SELECT count(*)
          FROM sys_query_history
         WHERE status IN ('planning', 'queued', 'running', 'returning')
           AND session_id <> pg_backend_pid()
           AND lower(ltrim(query_text)) LIKE 'vacuum%') AS running
