-- Leader election among serve replicas on a PostgreSQL store: one row, the
-- lease of the replica that runs the engines that must run once. epoch
-- grows with every new leader; every write the engines make checks it
-- (store.WithFence), so that a deposed leader's late write is refused.
-- Times are the database server's Unix milliseconds, so that the
-- replicas' clocks do not matter. An SQLite store has one process and
-- never uses the table.
CREATE TABLE leader_lease (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    holder     TEXT    NOT NULL,
    epoch      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    renewed_at INTEGER NOT NULL
);
