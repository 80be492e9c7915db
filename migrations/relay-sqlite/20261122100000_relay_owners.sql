-- Owners of the whole relay: a device (and the invite that enrolls it) without a channel.
-- They enroll with the setup code the first start prints, before any channel exists, add
-- channels, and reach every one. SQLite cannot drop NOT NULL in place, so both tables are
-- rebuilt; the new invites table refers to the new devices table, so the old ones can go
-- without a foreign key ever pointing at nothing.

CREATE TABLE devices_next (
    id             TEXT PRIMARY KEY NOT NULL,
    channel_id     TEXT REFERENCES channels (id),
    role           TEXT NOT NULL CHECK (role IN ('owner', 'staff')),
    device_name    TEXT NOT NULL,
    operator_name  TEXT NOT NULL,
    -- SHA-256 of the device token; the token itself is never stored.
    token_hash     BLOB NOT NULL,
    created_at     INTEGER NOT NULL,
    revoked_at     INTEGER,
    CHECK (channel_id IS NOT NULL OR role = 'owner')
) STRICT;

INSERT INTO devices_next
    (id, channel_id, role, device_name, operator_name, token_hash, created_at, revoked_at)
SELECT id, channel_id, role, device_name, operator_name, token_hash, created_at, revoked_at
FROM devices;

CREATE TABLE invites_next (
    -- SHA-256 of the one-time code.
    code_hash    BLOB PRIMARY KEY NOT NULL,
    channel_id   TEXT REFERENCES channels (id),
    role         TEXT NOT NULL CHECK (role IN ('owner', 'staff')),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    used_by      TEXT REFERENCES devices_next (id),
    CHECK (channel_id IS NOT NULL OR role = 'owner')
) STRICT, WITHOUT ROWID;

INSERT INTO invites_next
    (code_hash, channel_id, role, created_at, expires_at, used_at, used_by)
SELECT code_hash, channel_id, role, created_at, expires_at, used_at, used_by
FROM invites;

DROP TABLE invites;
DROP TABLE devices;
-- Renaming also points invites_next.used_by at the renamed table.
ALTER TABLE devices_next RENAME TO devices;
ALTER TABLE invites_next RENAME TO invites;

CREATE INDEX devices_channel ON devices (channel_id);
