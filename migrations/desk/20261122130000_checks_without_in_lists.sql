-- Rebuilds the tables whose CHECK constraints listed three or more values with IN (...).
-- SQLite evaluates such a list through a temporary B-tree for every row written, which cost
-- the projection a fifth of its time; the same constraints written as comparisons cost
-- nothing. Columns, rows, rowids (which the search index refers to) and indexes stay as
-- they were.

-- contacts
CREATE TABLE contacts_rebuilt (
    id               INTEGER PRIMARY KEY,
    user_id          TEXT NOT NULL UNIQUE,
    display_name     TEXT,
    picture_url      TEXT,
    status_message   TEXT,
    language         TEXT,
    friend_status    TEXT NOT NULL DEFAULT 'unknown'
                     CHECK (friend_status = 'following' OR
                            friend_status = 'blocked' OR
                            friend_status = 'unknown'),
    first_seen_at    INTEGER NOT NULL,
    followed_at      INTEGER,
    blocked_at       INTEGER,
    last_message_at  INTEGER
) STRICT;
INSERT INTO contacts_rebuilt SELECT * FROM contacts;
DROP TABLE contacts;
ALTER TABLE contacts_rebuilt RENAME TO contacts;
CREATE INDEX contacts_status ON contacts (friend_status, id);
CREATE INDEX contacts_silent ON contacts (id) WHERE last_message_at IS NULL;

-- conversations
CREATE TABLE conversations_rebuilt (
    id                 TEXT PRIMARY KEY NOT NULL,
    kind               TEXT NOT NULL CHECK (kind = 'user' OR kind = 'group' OR kind = 'room'),
    mode               TEXT NOT NULL DEFAULT 'bot' CHECK (mode IN ('bot', 'human')),
    -- The session not yet closed, if any.
    session_id         INTEGER,
    -- The state of its newest session (NULL: never had one) and, while active, whose it
    -- is: copied here so the inbox lists are index ranges.
    state              TEXT CHECK (state = 'waiting' OR state = 'active' OR state = 'closed'),
    operator           TEXT,
    -- Seq of the newest message, for ordering and keyset pagination.
    last_seq           INTEGER NOT NULL,
    last_message_at    INTEGER,
    last_preview       TEXT,
    -- Messages from the patient since the team last answered.
    unread             INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO conversations_rebuilt SELECT * FROM conversations;
DROP TABLE conversations;
ALTER TABLE conversations_rebuilt RENAME TO conversations;
CREATE INDEX conversations_recent ON conversations (last_seq);
CREATE INDEX conversations_state ON conversations (state, operator, last_seq)
    WHERE state IS NOT NULL;

-- sessions
CREATE TABLE sessions_rebuilt (
    -- The seq of the entry that opened it.
    id                 INTEGER PRIMARY KEY,
    conversation_id    TEXT NOT NULL,
    status             TEXT NOT NULL
                         CHECK (status = 'waiting' OR
                                status = 'active' OR
                                status = 'closed'),
    operator           TEXT,
    started_at         INTEGER NOT NULL,
    claimed_at         INTEGER,
    first_response_at  INTEGER,
    closed_at          INTEGER,
    closed_by          TEXT,
    message_count      INTEGER NOT NULL DEFAULT 0,
    transfers          INTEGER NOT NULL DEFAULT 0,
    csat               INTEGER
) STRICT;
INSERT INTO sessions_rebuilt SELECT * FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_rebuilt RENAME TO sessions;
CREATE INDEX sessions_conversation ON sessions (conversation_id, id);
CREATE INDEX sessions_open ON sessions (status, operator, started_at) WHERE status <> 'closed';
CREATE INDEX sessions_started ON sessions (started_at);

-- messages
CREATE TABLE messages_rebuilt (
    -- seq × 1024 + part: log order, and the entry's messages in order.
    id                     INTEGER PRIMARY KEY,
    -- The entry it came in, and its place among that entry's messages.
    seq                    INTEGER NOT NULL,
    part                   INTEGER NOT NULL,
    conversation_id        TEXT NOT NULL,
    direction              TEXT NOT NULL
                             CHECK (direction = 'in' OR
                                    direction = 'out' OR
                                    direction = 'system'),
    -- The LINE user who wrote it (in), or the operator (out; the executor's device for
    -- automations).
    author                 TEXT,
    line_message_id        TEXT,
    type                   TEXT NOT NULL,
    -- 0 for message types this version cannot show.
    supported              INTEGER NOT NULL,
    text                   TEXT,
    -- The message object as JSON.
    body                   TEXT NOT NULL,
    quote_token            TEXT,
    mark_as_read_token     TEXT,
    reply_token            TEXT,
    reply_token_expires_at INTEGER,
    -- Out only: pending until the relay reports it sent or failed.
    send_status            TEXT
                             CHECK (send_status = 'pending' OR
                                    send_status = 'sent' OR
                                    send_status = 'failed'),
    send_op                TEXT,
    failure                TEXT,
    unsent                 INTEGER NOT NULL DEFAULT 0,
    -- LINE's timestamp of the newest edit applied.
    edited_at              INTEGER,
    line_timestamp         INTEGER,
    at                     INTEGER NOT NULL,
    CHECK (id = seq * 1024 + part AND part BETWEEN 0 AND 1023)
) STRICT;
INSERT INTO messages_rebuilt SELECT * FROM messages;
DROP TABLE messages;
ALTER TABLE messages_rebuilt RENAME TO messages;
CREATE INDEX messages_conversation ON messages (conversation_id, id);
CREATE INDEX messages_send_op ON messages (send_op) WHERE send_op IS NOT NULL;

-- audit
CREATE TABLE audit_rebuilt (
    seq           INTEGER PRIMARY KEY,
    op_id         TEXT NOT NULL,
    device        TEXT NOT NULL,
    type          TEXT NOT NULL,
    conversation  TEXT,
    at            INTEGER NOT NULL,
    outcome       TEXT NOT NULL
                    CHECK (outcome = 'applied' OR
                           outcome = 'rejected' OR
                           outcome = 'unsupported'),
    reason        TEXT,
    op            TEXT NOT NULL
) STRICT;
INSERT INTO audit_rebuilt SELECT * FROM audit;
DROP TABLE audit;
ALTER TABLE audit_rebuilt RENAME TO audit;
CREATE INDEX audit_conversation ON audit (conversation, seq) WHERE conversation IS NOT NULL;
CREATE INDEX audit_op ON audit (op_id);

