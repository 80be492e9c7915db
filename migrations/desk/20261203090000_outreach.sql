-- Follower syncs and reminders, as the owner's screens show them: how far a sync is, and
-- what became of each reminder for each patient. Kept as the projection applies the
-- executor's reports, so a screen reads one row instead of replaying the audit.

-- A follower sync, named by the id of the `sync_followers` op that asked for it.
CREATE TABLE follower_syncs (
    sync         TEXT PRIMARY KEY,
    device       TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    -- Profiles logged of the followers listed so far, and how many LINE listed.
    done         INTEGER NOT NULL DEFAULT 0,
    total        INTEGER,
    progress_at  INTEGER,
    outcome      TEXT CHECK (outcome IS NULL OR outcome = 'done' OR outcome = 'unavailable'
                             OR outcome = 'failed'),
    reason       TEXT,
    ended_at     INTEGER
) STRICT;
CREATE INDEX follower_syncs_started ON follower_syncs (started_at);

-- A reminder, named by the id of its `schedule_reminder` op.
CREATE TABLE reminders (
    id            TEXT PRIMARY KEY,
    device        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    text          TEXT NOT NULL,
    date          TEXT,
    time          TEXT,
    clinic        TEXT,
    due_at        INTEGER NOT NULL,
    audience      TEXT NOT NULL CHECK (audience = 'contact' OR audience = 'tag'
                                       OR audience = 'following'),
    -- The patient's user id, or the tag's name.
    target        TEXT,
    cancelled_at  INTEGER,
    cancelled_by  TEXT,
    -- When the executor fixed who it goes to.
    fixed_at      INTEGER
) STRICT;
CREATE INDEX reminders_due ON reminders (due_at);

-- Each patient a reminder goes to; `outcome` is null until LINE answered for them.
CREATE TABLE reminder_recipients (
    reminder  TEXT NOT NULL REFERENCES reminders (id),
    user_id   TEXT NOT NULL,
    outcome   TEXT CHECK (outcome IS NULL OR outcome = 'sent' OR outcome = 'failed'
                          OR outcome = 'blocked'),
    reason    TEXT,
    at        INTEGER,
    PRIMARY KEY (reminder, user_id)
) STRICT, WITHOUT ROWID;
