-- The ops schema: the pipeline's ledger and its load errors, written by
-- whatever runs the pipeline (cron, Airflow, dbt hooks) and read by dpcops.
-- Idempotent: dpcops warehouse init runs it any number of times.
CREATE SCHEMA IF NOT EXISTS ops;

-- The columns of Redshift's SYS_LOAD_ERROR_DETAIL, so that one loader can
-- write both.
CREATE TABLE IF NOT EXISTS ops.load_errors (
    user_id        integer,
    query_id       bigint,
    transaction_id bigint,
    session_id     integer,
    database_name  text,
    table_id       integer,
    start_time     timestamptz NOT NULL DEFAULT now(),
    file_name      text,
    line_number    bigint,
    column_name    text,
    column_type    text,
    column_length  text,
    position       integer,
    error_code     integer,
    error_message  text
);
CREATE INDEX IF NOT EXISTS load_errors_start_time ON ops.load_errors (start_time);

CREATE TABLE IF NOT EXISTS ops.pipeline_runs (
    id          bigserial PRIMARY KEY,
    pipeline    text        NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    status      text        NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'succeeded', 'failed')),
    failed_step text,
    error       text
);
CREATE INDEX IF NOT EXISTS pipeline_runs_pipeline ON ops.pipeline_runs (pipeline, status, finished_at);
