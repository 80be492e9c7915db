-- What the relay keeps of each message's media (images, video, audio, files users sent):
-- stored (with its type and whether a thumbnail exists), gone (unsent first), or failed.
-- Keyed by LINE's message id, as the relay's `media` op names it. Stores from before this
-- learn it from the audit trail, which keeps every op whole.
CREATE TABLE media (
    message_id    TEXT PRIMARY KEY NOT NULL,
    state         TEXT NOT NULL CHECK (state = 'stored' OR state = 'gone' OR state = 'failed'),
    content_type  TEXT,
    size          INTEGER,
    preview       INTEGER NOT NULL DEFAULT 0,
    reason        TEXT,
    seq           INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT OR REPLACE INTO media (message_id, state, content_type, size, preview, reason, seq)
SELECT json_extract(op, '$.message'),
       json_extract(op, '$.outcome.result'),
       json_extract(op, '$.outcome.content_type'),
       json_extract(op, '$.outcome.size'),
       COALESCE(json_extract(op, '$.outcome.preview'), 0),
       json_extract(op, '$.outcome.reason'),
       seq
FROM audit WHERE type = 'media' AND outcome = 'applied'
ORDER BY seq;
