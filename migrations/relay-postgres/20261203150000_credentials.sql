-- Credentials a channel's automations use (the AI endpoint's API key, the Telegram bot's
-- token), sealed with the relay's key like the channel secret. Never in the log.
CREATE TABLE channel_credentials (
    channel_id  TEXT NOT NULL REFERENCES channels (id),
    name        TEXT NOT NULL,
    nonce       BYTEA NOT NULL,
    sealed      BYTEA NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (channel_id, name)
);
