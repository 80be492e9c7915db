-- Search keeps one index for messages and one for contacts, of each text's characters and
-- pairs of neighbouring characters as words, without their positions (`detail = none`): a
-- search looks up the query's pairs (or its one character), then reads the texts the index
-- names for the query itself. The trigram index and the pair index with positions took
-- 250 bytes a message between them; this takes about 50.
--
-- A message's document is its log entry (the row id is the entry's seq, the words those
-- of all its messages' texts): seqs follow one another, where message ids leave gaps of
-- 1,024 that cost each word two bytes more.
--
-- The words are written by the desk (`search.rs`), so the new indexes start empty: the
-- indexer writes every message again from the first, a few thousand at a time, and every
-- contact. Until it has, search finds the older messages only.
DROP TABLE messages_trigram;
DROP TABLE messages_bigram;
DROP TABLE contacts_trigram;
DROP TABLE contacts_bigram;

CREATE VIRTUAL TABLE messages_grams USING fts5 (
    grams, content = '', contentless_delete = 1, tokenize = 'ascii', detail = none
);
CREATE VIRTUAL TABLE contacts_grams USING fts5 (
    grams, content = '', contentless_delete = 1, tokenize = 'ascii', detail = none
);

UPDATE search_progress SET message_id = 0;
INSERT OR IGNORE INTO contacts_to_index (user_id) SELECT user_id FROM contacts;
