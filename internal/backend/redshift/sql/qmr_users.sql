-- Query monitoring: user names by id, for exclude_users (SYS_QUERY_HISTORY
-- gives ids only).
SELECT usesysid, usename FROM pg_user
