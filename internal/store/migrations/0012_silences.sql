-- Silences: "not now" for the alarms their matchers select, from starts_at
-- until ends_at (or until expired by hand). Matchers are a JSON list of
-- {"label", "value"} pairs, all of which must hold.
CREATE TABLE silences (
    id         INTEGER PRIMARY KEY,
    matchers   TEXT    NOT NULL,
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    comment    TEXT    NOT NULL,
    created_by TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expired_at INTEGER
);

-- The notifications a silence or an inhibit rule held back: the outbox
-- row each would have been, kept until the silence ends or the inhibiting
-- alarm leaves ALARM. Then it goes to the outbox if its alarm is still in
-- the same episode (outcome sent), or stays here (outcome dropped).
CREATE TABLE held (
    id            INTEGER PRIMARY KEY,
    silence_id    INTEGER REFERENCES silences (id),   -- the silence that holds it, or
    inhibitor     TEXT    NOT NULL DEFAULT '',        -- the alarm whose ALARM does
    channel       TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    alarm         TEXT    NOT NULL,
    transition_id INTEGER,                 -- alarm_history.id, not enforced: history prunes by age
    dedup_key     TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    released_at   INTEGER,
    outcome       TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX held_open ON held (released_at);
CREATE INDEX held_transition ON held (transition_id);
