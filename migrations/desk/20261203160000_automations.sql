-- The model that wrote a message the AI responder sent, if one did.
ALTER TABLE messages ADD COLUMN ai_model TEXT;

-- What the relay says of the credentials it keeps for the channel (never their values):
-- whether it has one, since when and from whom, and the newest trouble using it.
CREATE TABLE credentials (
    name        TEXT PRIMARY KEY NOT NULL,
    kept        INTEGER NOT NULL,
    set_at      INTEGER NOT NULL,
    set_by      TEXT,
    problem     TEXT,
    problem_at  INTEGER
) STRICT;

-- The AI's answers by time, for analytics.
CREATE INDEX messages_by_ai ON messages (at) WHERE ai_model IS NOT NULL;
