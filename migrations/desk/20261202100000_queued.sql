-- Where a waiting session stands in the queue: the seq and time it joined it, when it
-- opened or when its operator released it back. A released chat goes to the end of the
-- queue, and its waiting time starts again.
ALTER TABLE sessions ADD COLUMN queued_seq INTEGER;
ALTER TABLE sessions ADD COLUMN queued_at INTEGER;
UPDATE sessions SET queued_seq = id, queued_at = started_at;
-- Sessions released before this: from the newest release the audit kept.
UPDATE sessions SET
    queued_seq = released.seq,
    queued_at = released.at
FROM (
    SELECT a.conversation, s.id AS session, max(a.seq) AS seq, a.at
    FROM audit a JOIN sessions s ON s.conversation_id = a.conversation AND a.seq > s.id
    WHERE a.type = 'release' AND a.outcome = 'applied'
    GROUP BY s.id
) AS released
WHERE sessions.id = released.session;
CREATE INDEX sessions_queue ON sessions (queued_seq) WHERE status = 'waiting';
