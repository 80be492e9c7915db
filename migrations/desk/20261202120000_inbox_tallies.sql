-- How many conversations each of the inbox's long lists holds, kept as the projection
-- writes rather than counted on every refresh (the bot's list alone is every patient the
-- clinic has: a count over 100,000 rows took about 30 ms). Triggers keep them, so every
-- write to `conversations` counts, and the update trigger runs its body only when a
-- conversation joins or leaves a list. (A migration that rebuilds `conversations` drops
-- these triggers with the table, and must make them again.)
CREATE TABLE inbox_tallies (
    list TEXT PRIMARY KEY,
    n    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO inbox_tallies (list, n) VALUES
    ('bot', (SELECT COUNT(*) FROM conversations WHERE mode IS 'bot')),
    ('closed', (SELECT COUNT(*) FROM conversations WHERE state IS 'closed' AND operator IS NULL)),
    ('unread', (SELECT COUNT(*) FROM conversations WHERE unread > 0));

CREATE TRIGGER conversations_tally_insert AFTER INSERT ON conversations BEGIN
    UPDATE inbox_tallies SET n = n + (new.mode IS 'bot') WHERE list = 'bot';
    UPDATE inbox_tallies SET n = n + (new.state IS 'closed' AND new.operator IS NULL)
        WHERE list = 'closed';
    UPDATE inbox_tallies SET n = n + (new.unread > 0) WHERE list = 'unread';
END;

CREATE TRIGGER conversations_tally_update AFTER UPDATE OF mode, state, operator, unread
    ON conversations
    WHEN (old.mode IS 'bot') <> (new.mode IS 'bot')
      OR (old.state IS 'closed' AND old.operator IS NULL)
         <> (new.state IS 'closed' AND new.operator IS NULL)
      OR (old.unread > 0) <> (new.unread > 0)
BEGIN
    UPDATE inbox_tallies SET n = n + (new.mode IS 'bot') - (old.mode IS 'bot')
        WHERE list = 'bot';
    UPDATE inbox_tallies
        SET n = n + (new.state IS 'closed' AND new.operator IS NULL)
                  - (old.state IS 'closed' AND old.operator IS NULL)
        WHERE list = 'closed';
    UPDATE inbox_tallies SET n = n + (new.unread > 0) - (old.unread > 0) WHERE list = 'unread';
END;

CREATE TRIGGER conversations_tally_delete AFTER DELETE ON conversations BEGIN
    UPDATE inbox_tallies SET n = n - (old.mode IS 'bot') WHERE list = 'bot';
    UPDATE inbox_tallies SET n = n - (old.state IS 'closed' AND old.operator IS NULL)
        WHERE list = 'closed';
    UPDATE inbox_tallies SET n = n - (old.unread > 0) WHERE list = 'unread';
END;
