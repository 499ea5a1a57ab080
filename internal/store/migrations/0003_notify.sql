-- Notification delivery. The outbox keeps the receiver's status code of the
-- last attempt (HTTP or SMTP, 0 when no answer came) and the time of the
-- first attempt, so that a failed delivery shows what the receiver said
-- and the delay from transition to first attempt can be measured.
ALTER TABLE outbox ADD COLUMN status INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN first_attempt_at INTEGER;

-- The worker claims due rows channel by channel, up to each channel's
-- concurrency limit.
CREATE INDEX outbox_channel_due ON outbox (channel, state, next_attempt_at);

-- The worker keeps the deliveries of one episode on one channel in order
-- (a resolve never overtakes its trigger).
CREATE INDEX outbox_alarm_channel ON outbox (alarm, channel, dedup_key);

-- The episodes each channel was told of (a trigger or a repeat) and not
-- yet told the end of: a return to OK resolves exactly these.
CREATE TABLE notify_open (
    alarm     TEXT    NOT NULL,
    channel   TEXT    NOT NULL,
    dedup_key TEXT    NOT NULL,
    opened_at INTEGER NOT NULL,
    PRIMARY KEY (alarm, channel, dedup_key)
) WITHOUT ROWID;

-- The local inbox channel: messages kept in the store and shown in the web
-- UI. One row per delivery: a delivery sent again after a crash finds its
-- row (outbox_id is unique) and adds nothing.
CREATE TABLE inbox (
    id          INTEGER PRIMARY KEY,
    outbox_id   INTEGER UNIQUE REFERENCES outbox (id),  -- NULL for `dpcops notify test`
    channel     TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    alarm       TEXT    NOT NULL DEFAULT '',
    severity    TEXT    NOT NULL DEFAULT '',
    state       TEXT    NOT NULL DEFAULT '',
    episode     INTEGER NOT NULL DEFAULT 0,
    dedup_key   TEXT    NOT NULL DEFAULT '',
    title       TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    message     TEXT    NOT NULL,              -- the JSON message
    at          INTEGER NOT NULL,              -- the transition's time
    received_at INTEGER NOT NULL,
    read_at     INTEGER
);

CREATE INDEX inbox_received ON inbox (received_at);
