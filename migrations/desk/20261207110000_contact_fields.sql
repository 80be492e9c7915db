-- The clinic's own facts about a contact (chart number, real name, phone, date of birth,
-- the name the team uses, and the fields owners add), by field. Searchable with the
-- contact's name: the contact's search text is their LINE name and these values.
CREATE TABLE contact_fields (
    user_id  TEXT NOT NULL,
    field    TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (user_id, field)
) STRICT, WITHOUT ROWID;

-- Contacts whose search text is to be written again (their tags are searchable now): the
-- search indexer takes them, a few thousand at a time, and forgets each once written.
CREATE TABLE contacts_to_index (
    user_id  TEXT PRIMARY KEY NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO contacts_to_index (user_id) SELECT user_id FROM contacts;
