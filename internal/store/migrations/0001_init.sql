-- Series are (metric, dimensions) pairs; datapoints refer to them by id so
-- that the datapoint rows stay small.
CREATE TABLE series (
    id     INTEGER PRIMARY KEY,
    metric TEXT NOT NULL,
    dims   TEXT NOT NULL,           -- canonical "k=v;k=v", sorted by key
    unit   TEXT NOT NULL DEFAULT 'None',
    UNIQUE (metric, dims)
);

CREATE TABLE datapoints (
    series_id INTEGER NOT NULL REFERENCES series (id),
    ts        INTEGER NOT NULL,     -- Unix milliseconds
    value     REAL    NOT NULL,
    PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;

CREATE TABLE alarm_state (
    alarm        TEXT PRIMARY KEY,
    state        TEXT    NOT NULL CHECK (state IN ('OK', 'ALARM', 'INSUFFICIENT_DATA')),
    reason       TEXT    NOT NULL DEFAULT '',
    reason_data  TEXT    NOT NULL DEFAULT '{}',
    episode      INTEGER NOT NULL DEFAULT 0,  -- counts entries into ALARM
    evaluated_at INTEGER NOT NULL DEFAULT 0,  -- end of the last period evaluated
    changed_at   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE alarm_history (
    id          INTEGER PRIMARY KEY,
    alarm       TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    from_state  TEXT    NOT NULL,
    to_state    TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    reason_data TEXT    NOT NULL DEFAULT '{}',
    episode     INTEGER NOT NULL
);

CREATE INDEX alarm_history_alarm_at ON alarm_history (alarm, at);

-- One row per notification owed to one channel, written in the same
-- transaction as the transition that owes it.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    channel         TEXT    NOT NULL,
    kind            TEXT    NOT NULL,          -- trigger, resolve, repeat, test, qmr
    alarm           TEXT    NOT NULL DEFAULT '',
    transition_id   INTEGER REFERENCES alarm_history (id),
    dedup_key       TEXT    NOT NULL,
    payload         TEXT    NOT NULL,          -- JSON message
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'expired')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_at      INTEGER,
    sent_at         INTEGER,
    last_error      TEXT    NOT NULL DEFAULT '',
    response        TEXT    NOT NULL DEFAULT '',
    resends         INTEGER NOT NULL DEFAULT 0, -- sends repeated after a crash
    created_at      INTEGER NOT NULL
);

CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

CREATE TABLE collector_health (
    collector       TEXT PRIMARY KEY,
    last_run_at     INTEGER NOT NULL DEFAULT 0,
    last_success_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    last_error_at   INTEGER NOT NULL DEFAULT 0,
    duration_ms     INTEGER NOT NULL DEFAULT 0,
    statements      INTEGER NOT NULL DEFAULT 0, -- SQL statements sent, in all
    wakeups         INTEGER NOT NULL DEFAULT 0, -- idle periods dpcops broke
    datapoints      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE maintenance_runs (
    id          INTEGER PRIMARY KEY,
    job         TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target      TEXT    NOT NULL DEFAULT '',
    statement   TEXT    NOT NULL DEFAULT '',
    reason      TEXT    NOT NULL DEFAULT '',
    trigger     TEXT    NOT NULL DEFAULT '',
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    outcome     TEXT    NOT NULL
                CHECK (outcome IN ('running', 'succeeded', 'failed', 'skipped', 'missed', 'cancelled')),
    error       TEXT    NOT NULL DEFAULT '',
    before      TEXT    NOT NULL DEFAULT '{}',
    after       TEXT    NOT NULL DEFAULT '{}'
);

CREATE INDEX maintenance_runs_job ON maintenance_runs (job, started_at);

CREATE TABLE incidents (
    id        INTEGER PRIMARY KEY,
    alarm     TEXT    NOT NULL,
    episode   INTEGER NOT NULL,
    title     TEXT    NOT NULL,
    severity  TEXT    NOT NULL DEFAULT '',
    opened_at INTEGER NOT NULL,
    closed_at INTEGER,
    UNIQUE (alarm, episode)
);

CREATE TABLE incident_events (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    data        TEXT    NOT NULL DEFAULT '{}'
);

CREATE INDEX incident_events_incident ON incident_events (incident_id, at);
