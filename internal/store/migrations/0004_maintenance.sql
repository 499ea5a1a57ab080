-- Maintenance and query monitoring.

-- The maintenance scheduler's memory of each job: the last scheduled
-- firing it handled, the last pipeline success it saw, when it last
-- checked a condition-only job, and what it last ran.
CREATE TABLE maintenance_schedule (
    job          TEXT PRIMARY KEY,
    last_due     INTEGER NOT NULL DEFAULT 0,  -- Unix ms; 0: never
    last_event   INTEGER NOT NULL DEFAULT 0,
    last_check   INTEGER NOT NULL DEFAULT 0,
    last_run_at  INTEGER NOT NULL DEFAULT 0,
    last_trigger TEXT    NOT NULL DEFAULT ''
);

-- ANALYZE COMPRESSION's report (Redshift), one row per column, kept with
-- the run that produced it.
CREATE TABLE maintenance_compression (
    run_id            INTEGER NOT NULL REFERENCES maintenance_runs (id),
    table_name        TEXT    NOT NULL,
    column_name       TEXT    NOT NULL,
    encoding          TEXT    NOT NULL,
    est_reduction_pct REAL    NOT NULL,
    PRIMARY KEY (run_id, table_name, column_name)
);

-- Query monitoring: one row per rule and query acted on. The unique key
-- is what makes each query acted on once per rule, across restarts.
CREATE TABLE qmr_actions (
    id          INTEGER PRIMARY KEY,
    rule        TEXT    NOT NULL,
    query_key   TEXT    NOT NULL,
    action      TEXT    NOT NULL CHECK (action IN ('log', 'notify', 'abort')),
    outcome     TEXT    NOT NULL
                CHECK (outcome IN ('acting', 'logged', 'notified', 'cancelled', 'gone', 'failed')),
    at          INTEGER NOT NULL,
    query_id    INTEGER NOT NULL,
    pid         INTEGER NOT NULL,
    username    TEXT    NOT NULL DEFAULT '',
    database    TEXT    NOT NULL DEFAULT '',
    label       TEXT    NOT NULL DEFAULT '',
    metric      TEXT    NOT NULL,
    value_s     REAL    NOT NULL,
    threshold_s REAL    NOT NULL,
    query_text  TEXT    NOT NULL DEFAULT '',
    error       TEXT    NOT NULL DEFAULT '',
    UNIQUE (rule, query_key)
);

CREATE INDEX qmr_actions_at ON qmr_actions (at);
