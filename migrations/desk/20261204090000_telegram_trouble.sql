-- What kept the newest Telegram alert from its chats, in terms the owner can act on
-- (`token`, `chat`, `unreachable`, `off`, `late` or `other`); `problem` keeps the relay's
-- words for it.
ALTER TABLE credentials ADD COLUMN trouble TEXT;
