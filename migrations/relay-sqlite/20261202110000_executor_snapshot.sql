-- The executor's folded state of each channel's log as of a seq at or before its cursor, so
-- that a restart folds only what came after instead of the whole log.
CREATE TABLE executor_snapshots (
    channel_id  TEXT PRIMARY KEY NOT NULL REFERENCES channels (id),
    seq         INTEGER NOT NULL,
    state       BLOB NOT NULL
) STRICT;
