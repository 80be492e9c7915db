-- Erasing a patient.
--
-- The media of an erased patient's messages, by LINE's message id, until the desk's media
-- cache has deleted the files: written in the transaction that purges the patient, so a
-- desk that stops before deleting them deletes them when it starts again.
CREATE TABLE erased_media (
    message_id  TEXT PRIMARY KEY NOT NULL
) STRICT, WITHOUT ROWID;

-- The search indexes forget a deleted row's words at once, rather than when their
-- segments are next merged: an erased patient's words leave the index with them.
INSERT INTO messages_grams (messages_grams, rank) VALUES ('secure-delete', 1);
INSERT INTO contacts_grams (contacts_grams, rank) VALUES ('secure-delete', 1);

-- A contact an owner holds: their data is kept whatever the retention, for this reason,
-- since then.
ALTER TABLE contacts ADD COLUMN held_reason TEXT;
ALTER TABLE contacts ADD COLUMN held_at INTEGER;
