-- Unsent messages: the relay stops holding their content.

-- The LINE message id of a message event, to find it when its unsend arrives.
ALTER TABLE entries ADD COLUMN message_id TEXT;
CREATE INDEX entries_message ON entries (channel_id, message_id) WHERE message_id IS NOT NULL;

-- Every message a user unsent, so a message that arrives after its unsend (LINE may
-- deliver out of order) is stored as a tombstone from the start.
CREATE TABLE unsent (
    channel_id  TEXT NOT NULL REFERENCES channels (id),
    message_id  TEXT NOT NULL,
    PRIMARY KEY (channel_id, message_id)
) STRICT, WITHOUT ROWID;
