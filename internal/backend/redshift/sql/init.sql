-- The pipeline's ledger in Redshift (load errors come from
-- SYS_LOAD_ERROR_DETAIL). Idempotent.
CREATE SCHEMA IF NOT EXISTS ops;

CREATE TABLE IF NOT EXISTS ops.pipeline_runs (
    id          BIGINT IDENTITY(1, 1),
    pipeline    VARCHAR(256) NOT NULL,
    started_at  TIMESTAMP    NOT NULL DEFAULT getdate(),
    finished_at TIMESTAMP,
    status      VARCHAR(16)  NOT NULL DEFAULT 'running',
    failed_step VARCHAR(256),
    error       VARCHAR(4096)
);
