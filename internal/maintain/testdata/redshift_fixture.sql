-- Extends internal/backend/redshift/testdata/fixture.sql (loaded first)
-- with the Redshift Serverless views the maintenance SQL reads, with the
-- columns AWS documents: SYS_VACUUM_HISTORY, SYS_ANALYZE_HISTORY,
-- SYS_LOAD_HISTORY, and more SVV_TABLE_INFO rows. Times are UTC
-- timestamps without time zone, as in Redshift.
CREATE TABLE sys_vacuum_history (
    user_id                  integer,
    transaction_id           bigint,
    query_id                 bigint,
    database_name            text,
    schema_name              text,
    table_name               text,
    table_id                 integer,
    vacuum_type              char(32),
    is_automatic             boolean,
    status                   char(32),
    start_time               timestamp,
    end_time                 timestamp,
    record_time              timestamp,
    duration                 integer,
    rows_before_vacuum       bigint,
    size_before_vacuum       integer,
    reclaimable_rows         bigint,
    reclaimed_rows           bigint,
    reclaimed_blocks         bigint,
    sortedrows_before_vacuum integer,
    sortedrows_after_vacuum  integer
);

CREATE TABLE sys_analyze_history (
    user_id                   integer,
    transaction_id            bigint,
    database_name             char(30),
    schema_name               char(30),
    table_name                char(30),
    table_id                  integer,
    is_automatic              char(1),
    status                    char(15),
    start_time                timestamp,
    end_time                  timestamp,
    rows                      double precision,
    modified_rows             double precision,
    analyze_threshold_percent integer,
    last_analyze_time         timestamp
);

CREATE TABLE sys_load_history (
    user_id            integer,
    query_id           bigint,
    transaction_id     bigint,
    session_id         integer,
    database_name      text,
    status             text,
    table_name         text,
    start_time         timestamp,
    end_time           timestamp,
    duration           bigint,
    data_source        text,
    file_format        text,
    loaded_rows        bigint,
    loaded_bytes       bigint,
    source_file_count  integer,
    source_file_bytes  bigint,
    file_count_scanned integer,
    file_bytes_scanned bigint,
    error_count        bigint,
    copy_job_id        bigint
);

-- Tables for the planner: one only unsorted, one stale, one very large and
-- very unsorted (a deep copy), one with a big load since its last ANALYZE,
-- and one whose small load came before its last ANALYZE.
INSERT INTO svv_table_info ("schema", "table", table_id, size, unsorted, stats_off, tbl_rows, skew_rows, estimated_visible_rows) VALUES
    ('raw',  'unsorted_only', 1001, 100,    12.00, 0.00,  100000,     1.00, 100000),
    ('mart', 'stale',         1002, 100,    0.00,  40.00, 100000,     1.00, 100000),
    ('raw',  'giant',         1003, 819200, 80.00, 0.00,  9000000000, 1.00, 9000000000),
    ('raw',  'ef_daily',      1004, 5000,   0.00,  0.00,  400000000,  1.00, 400000000),
    ('raw',  'form1_daily',   1005, 50,     0.00,  0.00,  100000,     1.00, 100000);

INSERT INTO sys_analyze_history (table_id, table_name, status, start_time, end_time) VALUES
    (1004, 'ef_daily',    'Full', getdate() - interval '2 days', getdate() - interval '2 days'),
    (1005, 'form1_daily', 'Full', getdate() - interval '1 hour', getdate() - interval '1 hour'),
    (1005, 'form1_daily', 'Skipped', getdate() - interval '5 minutes', getdate() - interval '5 minutes');

INSERT INTO sys_load_history (query_id, status, table_name, start_time, end_time, loaded_rows) VALUES
    (301, 'completed', 'ef_daily',    getdate() - interval '3 hours', getdate() - interval '2 hours', 150000000),
    (302, 'completed', 'ef_daily',    getdate() - interval '3 days',  getdate() - interval '3 days',  99),
    (303, 'aborted',   'ef_daily',    getdate() - interval '1 hour',  getdate() - interval '1 hour',  7),
    (304, 'completed', 'form1_daily', getdate() - interval '2 hours', getdate() - interval '2 hours', 5000);
