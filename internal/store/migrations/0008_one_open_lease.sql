-- One open capacity lease at a time, held by the database rather than by
-- a count before the insert: two writers (a leading serve and a `dpcops
-- capacity raise` beside it, or two serves on a PostgreSQL store) cannot
-- both open one. Every open lease has the same key, so a second is a
-- unique violation.
CREATE UNIQUE INDEX capacity_leases_one_open ON capacity_leases ((closed_at IS NULL)) WHERE closed_at IS NULL;
