-- The executor of each channel: which relay process holds it (a lease, renewed while it
-- runs, taken over once it lapses), and how far into the log it has acted.
CREATE TABLE executors (
    channel_id        TEXT PRIMARY KEY NOT NULL REFERENCES channels (id),
    holder            TEXT NOT NULL,
    lease_expires_at  INTEGER NOT NULL,
    -- The seq of the last entry whose automations are logged.
    cursor            INTEGER NOT NULL DEFAULT 0
) STRICT;

-- A channel that already has a log starts acting from its head: what happened before the
-- executor existed is not greeted or answered now.
INSERT INTO executors (channel_id, holder, lease_expires_at, cursor)
    SELECT id, '', 0, head FROM channels;
