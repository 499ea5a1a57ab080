-- The pipeline's runs as the collector saw them (Step Functions
-- executions, ops.pipeline_runs rows), so that the dashboard's charts
-- mark them without asking the warehouse, which a page view must never
-- wake. Times are Unix milliseconds; a run still going has no finish.
CREATE TABLE pipeline_runs (
    id          INTEGER PRIMARY KEY,
    pipeline    TEXT    NOT NULL,
    run_id      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    status      TEXT    NOT NULL,
    UNIQUE (pipeline, run_id)
);
CREATE INDEX pipeline_runs_started ON pipeline_runs (started_at);
