-- The pipeline's ledger in Redshift (load errors come from
-- SYS_LOAD_ERROR_DETAIL). Idempotent.
--
-- dpcops warehouse init puts DEFAULT and the spec's pipeline.name in place
-- of the comment after pipeline's NOT NULL, so that a loader may write only
-- started_at, finished_at, status, failed_step and error. Redshift cannot
-- change the default of an existing column: a table created without it
-- keeps none (warehouse init says so), and its loaders write pipeline.
CREATE SCHEMA IF NOT EXISTS ops;

CREATE TABLE IF NOT EXISTS ops.pipeline_runs (
    id          BIGINT IDENTITY(1, 1),
    pipeline    VARCHAR(256) NOT NULL /* DEFAULT */,
    started_at  TIMESTAMP    NOT NULL DEFAULT getdate(),
    finished_at TIMESTAMP,
    status      VARCHAR(16)  NOT NULL DEFAULT 'running',
    failed_step VARCHAR(256),
    error       VARCHAR(4096)
);
