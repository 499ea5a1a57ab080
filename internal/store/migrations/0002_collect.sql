-- Values a collector keeps between cycles and across restarts: counter
-- baselines, window watermarks, usage accumulators, file offsets.
CREATE TABLE collector_state (
    key   TEXT PRIMARY KEY,
    value REAL    NOT NULL,
    ts    INTEGER NOT NULL
);

-- Error lines from the warehouse's logs, for the dashboard's error widget
-- and triage.
CREATE TABLE log_lines (
    id       INTEGER PRIMARY KEY,
    ts       INTEGER NOT NULL,
    source   TEXT    NOT NULL,
    severity TEXT    NOT NULL,
    message  TEXT    NOT NULL,
    detail   TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX log_lines_ts ON log_lines (ts);
