-- A desk's projection of its channel's log. Everything here follows from the log alone
-- (applied in order, the cursor stored in the same transaction), except the outbox and the
-- operator directory, which are this desk's own.

-- How far into the log this store is: the seq of the last entry applied.
CREATE TABLE cursor (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   INTEGER NOT NULL
) STRICT;
INSERT INTO cursor (id, seq) VALUES (1, 0);

-- LINE users who wrote, followed, or were fetched as followers.
CREATE TABLE contacts (
    id               INTEGER PRIMARY KEY,
    user_id          TEXT NOT NULL UNIQUE,
    display_name     TEXT,
    picture_url      TEXT,
    status_message   TEXT,
    language         TEXT,
    friend_status    TEXT NOT NULL DEFAULT 'unknown'
                     CHECK (friend_status IN ('following', 'blocked', 'unknown')),
    first_seen_at    INTEGER NOT NULL,
    followed_at      INTEGER,
    blocked_at       INTEGER,
    last_message_at  INTEGER
) STRICT;
CREATE INDEX contacts_status ON contacts (friend_status, id);
-- Contacts who never wrote (the filter); a contact leaves it with their first message.
CREATE INDEX contacts_silent ON contacts (id) WHERE last_message_at IS NULL;

CREATE TABLE contact_tags (
    user_id  TEXT NOT NULL,
    tag      TEXT NOT NULL,
    PRIMARY KEY (user_id, tag)
) STRICT, WITHOUT ROWID;
CREATE INDEX contact_tags_tag ON contact_tags (tag, user_id);

CREATE TABLE contact_notes (
    seq      INTEGER PRIMARY KEY,
    user_id  TEXT NOT NULL,
    text     TEXT NOT NULL,
    author   TEXT NOT NULL,
    at       INTEGER NOT NULL
) STRICT;
CREATE INDEX contact_notes_user ON contact_notes (user_id, seq);

-- Follow, unfollow (a block), and refollow (a follow with is_unblocked).
CREATE TABLE friend_history (
    seq           INTEGER PRIMARY KEY,
    user_id       TEXT NOT NULL,
    event         TEXT NOT NULL CHECK (event IN ('follow', 'unfollow')),
    is_unblocked  INTEGER NOT NULL,
    at            INTEGER NOT NULL
) STRICT;
CREATE INDEX friend_history_user ON friend_history (user_id, seq);

-- A chat with a user, a group or a room; its id is LINE's id of the user, group or room.
CREATE TABLE conversations (
    id                 TEXT PRIMARY KEY NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('user', 'group', 'room')),
    mode               TEXT NOT NULL DEFAULT 'bot' CHECK (mode IN ('bot', 'human')),
    -- The session not yet closed, if any.
    session_id         INTEGER,
    -- The state of its newest session (NULL: never had one) and, while active, whose it
    -- is: copied here so the inbox lists are index ranges.
    state              TEXT CHECK (state IN ('waiting', 'active', 'closed')),
    operator           TEXT,
    -- Seq of the newest message, for ordering and keyset pagination.
    last_seq           INTEGER NOT NULL,
    last_message_at    INTEGER,
    last_preview       TEXT,
    -- Messages from the patient since the team last answered.
    unread             INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX conversations_recent ON conversations (last_seq);
CREATE INDEX conversations_state ON conversations (state, operator, last_seq)
    WHERE state IS NOT NULL;

-- A stretch of a conversation in people's hands: WAITING → ACTIVE → CLOSED.
CREATE TABLE sessions (
    -- The seq of the entry that opened it.
    id                 INTEGER PRIMARY KEY,
    conversation_id    TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('waiting', 'active', 'closed')),
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
CREATE INDEX sessions_conversation ON sessions (conversation_id, id);
CREATE INDEX sessions_open ON sessions (status, operator, started_at) WHERE status <> 'closed';
CREATE INDEX sessions_started ON sessions (started_at);

-- Messages in (from LINE), out (sent by the team or the bot) and system notes.
CREATE TABLE messages (
    -- seq × 1024 + part: log order, and the entry's messages in order.
    id                     INTEGER PRIMARY KEY,
    -- The entry it came in, and its place among that entry's messages.
    seq                    INTEGER NOT NULL,
    part                   INTEGER NOT NULL,
    conversation_id        TEXT NOT NULL,
    direction              TEXT NOT NULL CHECK (direction IN ('in', 'out', 'system')),
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
    send_status            TEXT CHECK (send_status IN ('pending', 'sent', 'failed')),
    send_op                TEXT,
    failure                TEXT,
    unsent                 INTEGER NOT NULL DEFAULT 0,
    -- LINE's timestamp of the newest edit applied.
    edited_at              INTEGER,
    line_timestamp         INTEGER,
    at                     INTEGER NOT NULL,
    CHECK (id = seq * 1024 + part AND part BETWEEN 0 AND 1023)
) STRICT;
CREATE INDEX messages_conversation ON messages (conversation_id, id);
-- Edits and unsends find their message through its conversation.
CREATE INDEX messages_send_op ON messages (send_op) WHERE send_op IS NOT NULL;

-- Substring search in any script: trigrams for three characters or more, and bigrams
-- (each pair of neighbouring characters as one token, written by the desk) for shorter
-- words such as 予約 or 掛號. Hidden (unsent) messages are not indexed. Messages are indexed
-- in bulk after they are applied; search_progress is the newest message indexed.
CREATE TABLE search_progress (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    message_id  INTEGER NOT NULL
) STRICT;
INSERT INTO search_progress (id, message_id) VALUES (1, 0);

CREATE VIRTUAL TABLE messages_trigram USING fts5 (
    text, content = '', contentless_delete = 1, tokenize = 'trigram'
);
CREATE VIRTUAL TABLE messages_bigram USING fts5 (
    grams, content = '', contentless_delete = 1, tokenize = 'ascii'
);
CREATE VIRTUAL TABLE contacts_trigram USING fts5 (
    name, content = '', contentless_delete = 1, tokenize = 'trigram'
);
CREATE VIRTUAL TABLE contacts_bigram USING fts5 (
    grams, content = '', contentless_delete = 1, tokenize = 'ascii'
);

-- Team settings carried by ops: one value per setting, the last in the log.
CREATE TABLE settings (
    name   TEXT PRIMARY KEY NOT NULL,
    value  TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    at     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Every op in the log, with what became of it.
CREATE TABLE audit (
    seq           INTEGER PRIMARY KEY,
    op_id         TEXT NOT NULL,
    device        TEXT NOT NULL,
    type          TEXT NOT NULL,
    conversation  TEXT,
    at            INTEGER NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('applied', 'rejected', 'unsupported')),
    reason        TEXT,
    op            TEXT NOT NULL
) STRICT;
CREATE INDEX audit_conversation ON audit (conversation, seq) WHERE conversation IS NOT NULL;
CREATE INDEX audit_op ON audit (op_id);

-- This desk's ops not yet in the log, in the order they were made. An op the relay
-- refused (it will never take it) stays, marked, for people to see.
CREATE TABLE outbox (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id       TEXT NOT NULL UNIQUE,
    op          TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    -- The last failure, for people.
    last_error  TEXT,
    refused     INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Operators by name, as the relay lists them (not part of the log).
CREATE TABLE operators (
    id      TEXT PRIMARY KEY NOT NULL,
    name    TEXT NOT NULL,
    role    TEXT NOT NULL,
    active  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
