-- Maintenance: take dpcops' VACUUM lock ($1, a constant key) for this
-- session, without waiting. One dpcops process VACUUMs at a time.
SELECT pg_try_advisory_lock($1::bigint) AS locked
