-- This desk's own read marks: the newest message its operator has seen in each
-- conversation. Not part of the log: each desk (each operator) has its own.
CREATE TABLE read_marks (
    conversation_id  TEXT PRIMARY KEY NOT NULL,
    message_id       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
