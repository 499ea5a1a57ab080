-- The claim reads a channel's due rows ORDER BY next_attempt_at, id with a
-- LIMIT. SQLite's indexes end with the rowid (id), so the old index gave
-- that order; PostgreSQL's did not, and it sorted every pending row of
-- the channel on each claim (3 ms at 1 000 rows, most of a busy worker's
-- time). With id in the index both walk it in order and stop at the
-- limit.
DROP INDEX outbox_channel_due;
CREATE INDEX outbox_channel_due ON outbox (channel, state, next_attempt_at, id);
