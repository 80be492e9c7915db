-- The relay's log on PostgreSQL: the same tables as on SQLite (relay-sqlite/, after all its
-- migrations), for a relay that runs as several processes on one database.

CREATE TABLE channels (
    id             TEXT PRIMARY KEY,
    -- The LINE channel secret, sealed with the relay's key (XChaCha20-Poly1305).
    secret_nonce   BYTEA NOT NULL,
    secret_sealed  BYTEA NOT NULL,
    -- The newest seq in this channel's log; 0 before the first entry. An append locks the
    -- channel's row (FOR UPDATE), so appenders in every process take seqs one after another.
    head           BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL
);

CREATE TABLE entries (
    channel_id        TEXT NOT NULL REFERENCES channels (id),
    seq               BIGINT NOT NULL,
    -- When the relay received it, in Unix milliseconds.
    at                BIGINT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('line', 'op')),
    -- kind = 'line': the bot user id, and the event exactly as LINE sent it (TEXT, not
    -- JSONB: its bytes are kept as they came).
    destination       TEXT,
    event             TEXT,
    webhook_event_id  TEXT,
    -- The LINE message id of a message event, to find it when its unsend arrives.
    message_id        TEXT,
    -- kind = 'op': who appended which operation, under which idempotency key, and the
    -- device's role then ('owner' or 'staff'; NULL for the executor's).
    op_id             TEXT,
    device            TEXT,
    op                TEXT,
    role              TEXT,
    PRIMARY KEY (channel_id, seq),
    CHECK ((kind = 'line') = (event IS NOT NULL AND destination IS NOT NULL)),
    CHECK ((kind = 'op') = (op IS NOT NULL AND op_id IS NOT NULL AND device IS NOT NULL))
);

-- A LINE event is logged once, forever, however often LINE delivers it.
CREATE UNIQUE INDEX entries_webhook_event ON entries (channel_id, webhook_event_id)
    WHERE webhook_event_id IS NOT NULL;
-- An operation is logged once per idempotency key.
CREATE UNIQUE INDEX entries_op ON entries (channel_id, op_id) WHERE op_id IS NOT NULL;
CREATE INDEX entries_message ON entries (channel_id, message_id) WHERE message_id IS NOT NULL;

-- Every message a user unsent, so a message that arrives after its unsend (LINE may
-- deliver out of order, and to another relay process) is stored as a tombstone.
CREATE TABLE unsent (
    channel_id  TEXT NOT NULL REFERENCES channels (id),
    message_id  TEXT NOT NULL,
    PRIMARY KEY (channel_id, message_id)
);

-- Desks that may read and append: to one channel's log, or (channel_id NULL) the owners
-- of the whole relay.
CREATE TABLE devices (
    id             TEXT PRIMARY KEY,
    channel_id     TEXT REFERENCES channels (id),
    role           TEXT NOT NULL CHECK (role IN ('owner', 'staff')),
    device_name    TEXT NOT NULL,
    operator_name  TEXT NOT NULL,
    -- SHA-256 of the device token; the token itself is never stored.
    token_hash     BYTEA NOT NULL,
    created_at     BIGINT NOT NULL,
    revoked_at     BIGINT,
    -- When it last called the relay, to the minute.
    last_seen_at   BIGINT,
    CHECK (channel_id IS NOT NULL OR role = 'owner')
);

CREATE INDEX devices_channel ON devices (channel_id);

-- One-time enrollment codes.
CREATE TABLE invites (
    -- SHA-256 of the code.
    code_hash    BYTEA PRIMARY KEY,
    channel_id   TEXT REFERENCES channels (id),
    role         TEXT NOT NULL CHECK (role IN ('owner', 'staff')),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT,
    used_by      TEXT REFERENCES devices (id),
    CHECK (channel_id IS NOT NULL OR role = 'owner')
);

-- The executor of each channel: which relay process holds it (a lease, renewed while it
-- runs, taken over once it lapses), and how far into the log it has acted.
CREATE TABLE executors (
    channel_id        TEXT PRIMARY KEY REFERENCES channels (id),
    holder            TEXT NOT NULL,
    lease_expires_at  BIGINT NOT NULL,
    -- The seq of the last entry whose automations are logged.
    cursor            BIGINT NOT NULL DEFAULT 0
);

-- The executor's folded state of each channel's log as of a seq at or before its cursor.
CREATE TABLE executor_snapshots (
    channel_id  TEXT PRIMARY KEY REFERENCES channels (id),
    seq         BIGINT NOT NULL,
    state       BYTEA NOT NULL
);
