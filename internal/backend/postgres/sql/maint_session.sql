-- Maintenance: how long a statement may wait for its table's lock ($1,
-- e.g. '60000ms') before it gives up; kept for the session.
SELECT set_config('lock_timeout', $1, false) AS lock_timeout
