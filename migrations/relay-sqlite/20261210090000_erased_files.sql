-- Files an erase left to delete: the media of an erased patient's messages, and the photos
-- sent to them. Written in the erase's transaction, deleted with the files, so a relay
-- that stopped in between deletes them when it starts again.
CREATE TABLE erased_files (
    channel_id  TEXT NOT NULL REFERENCES channels (id),
    kind        TEXT NOT NULL CHECK (kind IN ('media', 'upload')),
    name        TEXT NOT NULL,
    PRIMARY KEY (channel_id, kind, name)
) STRICT, WITHOUT ROWID;
