-- The demo's DPC learning warehouse: raw files as loaded, typed staging,
-- and marts. Synthetic data only; no real patient is in it.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS mart;

-- 様式1 (Form 1): one row per admission episode.
CREATE TABLE IF NOT EXISTS raw.form1 (
    batch_id        bigint,
    facility_code   text,
    patient_id      text,
    sex             text,
    birth_date      date,
    admission_date  date,
    discharge_date  date,
    admission_route text,
    discharge_dest  text,
    main_icd10      text,
    dpc_code        text,
    height_cm       numeric,
    weight_kg       numeric
);

-- EF統合ファイル: one row per claim line per day.
CREATE TABLE IF NOT EXISTS raw.ef_lines (
    batch_id       bigint,
    facility_code  text,
    patient_id     text,
    admission_date date,
    data_category  text,
    order_no       integer,
    line_no        integer,
    receipt_code   text,
    item_name      text,
    quantity       numeric,
    unit           text,
    points         integer,
    service_date   date,
    ward           text,
    department     text
);

-- Old EF lines kept for audit; offloading them is the storage runbook.
CREATE TABLE IF NOT EXISTS raw.ef_lines_archive (LIKE raw.ef_lines);

CREATE TABLE IF NOT EXISTS staging.episodes (
    facility_code  text,
    patient_id     text,
    admission_date date,
    discharge_date date,
    los_days       integer,
    sex            text,
    age            integer,
    main_icd10     text,
    dpc_code       text,
    mdc6           text,
    PRIMARY KEY (facility_code, patient_id, admission_date)
);

CREATE TABLE IF NOT EXISTS staging.ef_lines (
    facility_code  text,
    patient_id     text,
    admission_date date,
    service_date   date,
    data_category  text,
    receipt_code   text,
    quantity       numeric,
    points         integer
);

CREATE TABLE IF NOT EXISTS mart.los_by_dpc (
    dpc_code      text,
    facility_code text,
    cases         integer,
    avg_los       numeric,
    updated_at    timestamptz,
    PRIMARY KEY (dpc_code, facility_code)
);

CREATE TABLE IF NOT EXISTS mart.cost_per_episode (
    facility_code  text,
    patient_id     text,
    admission_date date,
    total_points   bigint,
    yen            bigint,
    updated_at     timestamptz,
    PRIMARY KEY (facility_code, patient_id, admission_date)
);

CREATE TABLE IF NOT EXISTS mart.monthly_volume (
    month         date,
    facility_code text,
    discharges    integer,
    ef_lines      integer,
    updated_at    timestamptz,
    PRIMARY KEY (month, facility_code)
);
