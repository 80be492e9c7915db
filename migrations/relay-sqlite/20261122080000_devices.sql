-- Desks that may read and append to a channel's log, and the one-time codes that enroll them.

CREATE TABLE devices (
    id             TEXT PRIMARY KEY NOT NULL,
    channel_id     TEXT NOT NULL REFERENCES channels (id),
    role           TEXT NOT NULL CHECK (role IN ('owner', 'staff')),
    device_name    TEXT NOT NULL,
    operator_name  TEXT NOT NULL,
    -- SHA-256 of the device token; the token itself is never stored.
    token_hash     BLOB NOT NULL,
    created_at     INTEGER NOT NULL,
    revoked_at     INTEGER
) STRICT;

CREATE INDEX devices_channel ON devices (channel_id);

CREATE TABLE invites (
    -- SHA-256 of the one-time code.
    code_hash    BLOB PRIMARY KEY NOT NULL,
    channel_id   TEXT NOT NULL REFERENCES channels (id),
    role         TEXT NOT NULL CHECK (role IN ('owner', 'staff')),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    used_by      TEXT REFERENCES devices (id)
) STRICT, WITHOUT ROWID;
