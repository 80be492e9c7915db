-- Rebuilds `messages` smaller, and its indexes.
--
-- A message's body (the message object as JSON) no longer repeats what the row's columns
-- hold: a member equal, as a string, to its column (`type`, `id`, `text`, `quoteToken`,
-- `markAsReadToken`) is left out, and `body_omits` says which were (1, 2, 4, 8, 16); the
-- desk puts them back when it reads the body (`columns/body.rs`, which writes this same
-- SQL for the projection). A text from LINE kept about 110 bytes twice.
--
-- `messages_conversation` holds the conversation alone: every index entry ends with the
-- row id, which is the message id, so the id beside it was a copy. `messages_line_id`
-- holds LINE's message id alone: it is unique across chats, and the conversation in
-- front of it (33 bytes) only made the index three times longer.
--
-- Columns, rows, ids, checks and the other indexes stay as they were.
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
    -- The message object as JSON, without the members `body_omits` names.
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
    sent_via               TEXT CHECK (sent_via = 'reply' OR sent_via = 'push'),
    ai_model               TEXT,
    reply_token_spent      INTEGER NOT NULL DEFAULT 0,
    unconfirmed            INTEGER NOT NULL DEFAULT 0,
    line_request_id        TEXT,
    -- Which members of the message object its columns hold instead of `body`: type 1,
    -- id 2, text 4, quoteToken 8, markAsReadToken 16.
    body_omits             INTEGER NOT NULL DEFAULT 0,
    CHECK (id = seq * 1024 + part AND part BETWEEN 0 AND 1023)
) STRICT;

INSERT INTO messages_rebuilt (
    id, seq, part, conversation_id, direction, author, line_message_id, type, supported, text,
    body, quote_token, mark_as_read_token, reply_token, reply_token_expires_at, send_status,
    send_op, failure, unsent, edited_at, line_timestamp, at, sent_via, ai_model,
    reply_token_spent, unconfirmed, line_request_id, body_omits
)
SELECT
    id, seq, part, conversation_id, direction, author, line_message_id, type, supported, text,
    IIF(omits = 0, body, json_patch(body, '{' || rtrim(
        IIF(omits & 1, '"type":null,', '') ||
        IIF(omits & 2, '"id":null,', '') ||
        IIF(omits & 4, '"text":null,', '') ||
        IIF(omits & 8, '"quoteToken":null,', '') ||
        IIF(omits & 16, '"markAsReadToken":null,', ''), ',') || '}')),
    quote_token, mark_as_read_token, reply_token, reply_token_expires_at, send_status,
    send_op, failure, unsent, edited_at, line_timestamp, at, sent_via, ai_model,
    reply_token_spent, unconfirmed, line_request_id, omits
FROM (
    SELECT *,
        CASE WHEN json_valid(body) THEN
              1 * (json_type(body, '$.type') IS 'text'
                   AND json_extract(body, '$.type') IS type)
            + 2 * (json_type(body, '$.id') IS 'text'
                   AND json_extract(body, '$.id') IS line_message_id)
            + 4 * (json_type(body, '$.text') IS 'text'
                   AND json_extract(body, '$.text') IS text)
            + 8 * (json_type(body, '$.quoteToken') IS 'text'
                   AND json_extract(body, '$.quoteToken') IS quote_token)
            + 16 * (json_type(body, '$.markAsReadToken') IS 'text'
                    AND json_extract(body, '$.markAsReadToken') IS mark_as_read_token)
        ELSE 0 END AS omits
    FROM messages
)
ORDER BY id;

DROP TABLE messages;
ALTER TABLE messages_rebuilt RENAME TO messages;

CREATE INDEX messages_conversation ON messages (conversation_id);
CREATE INDEX messages_send_op ON messages (send_op) WHERE send_op IS NOT NULL;
CREATE INDEX messages_by_ai ON messages (at) WHERE ai_model IS NOT NULL;
CREATE INDEX messages_line_id ON messages (line_message_id) WHERE line_message_id IS NOT NULL;
