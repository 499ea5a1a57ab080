-- Maintenance: release dpcops' VACUUM lock ($1).
SELECT pg_advisory_unlock($1::bigint) AS unlocked
