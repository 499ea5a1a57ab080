-- A PostgreSQL stand-in for the Redshift Serverless views dpcops reads,
-- with the columns AWS documents (SYS_QUERY_HISTORY, SYS_LOAD_ERROR_DETAIL,
-- SVV_TABLE_INFO, SYS_SERVERLESS_USAGE) and Redshift's getdate(). Times are
-- UTC timestamps without time zone, as in Redshift.
CREATE FUNCTION getdate() RETURNS timestamp AS $$ SELECT (now() AT TIME ZONE 'UTC')::timestamp $$ LANGUAGE sql;

CREATE TABLE sys_query_history (
    user_id         integer,
    query_id        bigint,
    query_label     varchar(320),
    transaction_id  bigint,
    session_id      integer,
    database_name   varchar(128),
    query_type      varchar(32),
    status          varchar(10),
    result_cache_hit boolean,
    start_time      timestamp,
    end_time        timestamp,
    elapsed_time    bigint,
    queue_time      bigint,
    execution_time  bigint,
    error_message   varchar(512),
    returned_rows   bigint,
    returned_bytes  bigint,
    query_text      varchar(4000),
    redshift_version varchar(256)
);

CREATE TABLE sys_load_error_detail (
    user_id        integer,
    query_id       bigint,
    transaction_id bigint,
    session_id     integer,
    database_name  varchar(128),
    table_id       integer,
    start_time     timestamp,
    file_name      varchar(1024),
    line_number    bigint,
    column_name    varchar(127),
    column_type    varchar(10),
    column_length  varchar(10),
    position       integer,
    error_code     integer,
    error_message  varchar(512)
);

CREATE TABLE svv_table_info (
    database               text,
    "schema"               text,
    table_id               oid,
    "table"                text,
    encoded                text,
    diststyle              text,
    sortkey1               text,
    max_varchar            integer,
    sortkey1_enc           char(32),
    sortkey_num            integer,
    size                   bigint,
    pct_used               numeric(10, 4),
    empty                  bigint,
    unsorted               numeric(5, 2),
    stats_off              numeric(5, 2),
    tbl_rows               numeric(38, 0),
    skew_sortkey1          numeric(19, 2),
    skew_rows              numeric(19, 2),
    estimated_visible_rows numeric(38, 0),
    risk_event             text,
    vacuum_sort_benefit    numeric(12, 2),
    create_time            timestamp
);

CREATE TABLE sys_serverless_usage (
    start_time       timestamp,
    end_time         timestamp,
    compute_seconds  double precision,
    compute_capacity double precision,
    data_storage     integer,
    cross_region_transferred_data bigint,
    charged_seconds  integer
);

CREATE SCHEMA ops;
CREATE TABLE ops.pipeline_runs (
    id          bigserial,
    pipeline    varchar(256) NOT NULL,
    started_at  timestamp    NOT NULL DEFAULT getdate(),
    finished_at timestamp,
    status      varchar(16)  NOT NULL DEFAULT 'running',
    failed_step varchar(256),
    error       varchar(4096)
);

-- Sample rows, relative to getdate().
INSERT INTO sys_query_history (query_id, session_id, user_id, database_name, query_label, status, start_time, end_time, queue_time, query_text) VALUES
    (101, 9001, 100, 'dev', 'dbt',      'success', getdate() - interval '30 minutes', getdate() - interval '29 minutes', 0, 'select 1'),
    (102, 9001, 100, 'dev', 'dbt',      'success', getdate() - interval '20 minutes', getdate() - interval '19 minutes', 0, 'select 2'),
    (103, 9002, 101, 'dev', '',         'failed',  getdate() - interval '10 minutes', getdate() - interval '9 minutes',  0, 'select x from nowhere'),
    (104, 9002, 101, 'dev', '',         'success', getdate() - interval '3 hours',    getdate() - interval '3 hours',    0, 'too old'),
    (105, 9003, 102, 'dev', 'analyst',  'running', getdate() - interval '700 seconds', NULL, 2000000, 'select * from mart.los'),
    (106, 9004, 102, 'dev', '',         'queued',  getdate() - interval '5 seconds',  NULL, 0, 'select 3');

INSERT INTO sys_load_error_detail (query_id, start_time, file_name, line_number, column_name, error_code, error_message) VALUES
    (201, getdate() - interval '2 minutes',  's3://dpc/ef/2026-11-a.csv', 17, 'points', 1207, 'Invalid digit, Value ''O'''),
    (201, getdate() - interval '2 minutes',  's3://dpc/ef/2026-11-a.csv', 18, 'points', 1207, 'Invalid digit, Value ''O'''),
    (202, getdate() - interval '2 hours',    's3://dpc/form1/2026-10.csv', 3, 'admit_date', 1205, 'Invalid Date Format');

INSERT INTO svv_table_info ("schema", "table", size, unsorted, stats_off, tbl_rows, skew_rows, estimated_visible_rows) VALUES
    ('raw',  'ef_lines', 2048, 12.50, 3.00, 1000000, 1.35, 700000),
    ('mart', 'los',      16,   0.00,  0.00, 5000,    1.00, 5000),
    ('raw',  'form1',    64,   NULL,  NULL, NULL,    NULL, NULL);

INSERT INTO sys_serverless_usage (start_time, end_time, compute_seconds, compute_capacity, data_storage, charged_seconds) VALUES
    (getdate() - interval '3 minutes', getdate() - interval '2 minutes', 480, 8, 1024, 480),
    (getdate() - interval '2 minutes', getdate() - interval '1 minute',  0,   0, 1024, 0),
    (getdate() - interval '9 days',    getdate() - interval '9 days',    999, 8, 1024, 999);

INSERT INTO ops.pipeline_runs (pipeline, started_at, finished_at, status) VALUES
    ('dpc-elt', getdate() - interval '4 hours', getdate() - interval '95 minutes', 'succeeded');

-- SVV_COLUMNS, as its documented columns (a subset).
CREATE VIEW svv_columns AS
SELECT table_catalog, table_schema::text, table_name::text, column_name::text, ordinal_position, column_default::text, data_type::text
  FROM information_schema.columns WHERE table_schema IN ('mart', 'ops');
CREATE SCHEMA mart;
CREATE TABLE mart.los_by_dpc (dpc_code varchar(14), updated_at timestamp, avg_los numeric);
