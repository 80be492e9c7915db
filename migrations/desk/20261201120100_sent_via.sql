-- How an outgoing message went out: by reply token (free) or by push (counted against the
-- month's quota). Stores from before this know it from the audit trail, which keeps every
-- `sent` op whole.
ALTER TABLE messages ADD COLUMN sent_via TEXT CHECK (sent_via = 'reply' OR sent_via = 'push');

UPDATE messages SET sent_via = (
    SELECT json_extract(a.op, '$.via') FROM audit a
    WHERE a.type = 'sent' AND a.outcome = 'applied'
      AND json_extract(a.op, '$.send') = messages.send_op
    ORDER BY a.seq LIMIT 1
)
WHERE send_status = 'sent' AND send_op IS NOT NULL;
