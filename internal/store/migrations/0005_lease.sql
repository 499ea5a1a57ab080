-- Capacity leases: the pipeline raises the workgroup's max capacity for a
-- large dbt run; dpcops lowers it again. At most one lease is open.
CREATE TABLE capacity_leases (
    id           INTEGER PRIMARY KEY,
    pipeline     TEXT    NOT NULL,
    raised_to    INTEGER NOT NULL,
    normal       INTEGER NOT NULL,
    started_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    closed_at    INTEGER,
    close_reason TEXT    NOT NULL DEFAULT '',
    run          TEXT    NOT NULL DEFAULT '',  -- the pipeline run it serves (ledger id or execution ARN)
    shared       INTEGER NOT NULL DEFAULT 0,   -- extended by another pipeline: ends on request or expiry, not with a run
    asked_by     TEXT    NOT NULL,
    reason       TEXT    NOT NULL DEFAULT '',
    lower_error  TEXT    NOT NULL DEFAULT ''   -- the last lower that failed
);

CREATE INDEX capacity_leases_open ON capacity_leases (closed_at, started_at);

-- Every change, with who asked and why.
CREATE TABLE capacity_lease_events (
    id       INTEGER PRIMARY KEY,
    lease_id INTEGER NOT NULL REFERENCES capacity_leases (id),
    at       INTEGER NOT NULL,
    event    TEXT    NOT NULL,
    who      TEXT    NOT NULL DEFAULT '',
    detail   TEXT    NOT NULL DEFAULT ''
);
