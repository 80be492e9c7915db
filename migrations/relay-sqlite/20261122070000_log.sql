-- The relay's log: one gap-free sequence of entries per channel.

CREATE TABLE channels (
    id             TEXT PRIMARY KEY NOT NULL,
    -- The LINE channel secret, sealed with the relay's key (XChaCha20-Poly1305).
    secret_nonce   BLOB NOT NULL,
    secret_sealed  BLOB NOT NULL,
    -- The newest seq in this channel's log; 0 before the first entry.
    head           INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE entries (
    channel_id        TEXT NOT NULL REFERENCES channels (id),
    seq               INTEGER NOT NULL,
    -- When the relay received it, in Unix milliseconds.
    at                INTEGER NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('line', 'op')),
    -- kind = 'line': the bot user id, and the event exactly as LINE sent it.
    destination       TEXT,
    event             TEXT,
    webhook_event_id  TEXT,
    -- kind = 'op': who appended which operation, under which idempotency key.
    op_id             TEXT,
    device            TEXT,
    op                TEXT,
    PRIMARY KEY (channel_id, seq),
    CHECK ((kind = 'line') = (event IS NOT NULL AND destination IS NOT NULL)),
    CHECK ((kind = 'op') = (op IS NOT NULL AND op_id IS NOT NULL AND device IS NOT NULL))
) STRICT, WITHOUT ROWID;

-- A LINE event is logged once, forever, however often LINE delivers it.
CREATE UNIQUE INDEX entries_webhook_event ON entries (channel_id, webhook_event_id)
    WHERE webhook_event_id IS NOT NULL;

-- An operation is logged once per idempotency key.
CREATE UNIQUE INDEX entries_op ON entries (channel_id, op_id)
    WHERE op_id IS NOT NULL;
