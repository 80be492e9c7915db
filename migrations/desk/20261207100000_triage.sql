-- What an inbox row needs to triage a chat at a glance. Written by the projection as each
-- message is applied; filled in here from the messages a desk already holds.
--
-- Who wrote the message the row previews: 'patient', 'bot' (the relay's executor: greetings,
-- queue lines, AI answers) or 'staff'; and, for staff, which operator.
ALTER TABLE conversations ADD COLUMN last_speaker TEXT
    CHECK (last_speaker = 'patient' OR last_speaker = 'bot' OR last_speaker = 'staff');
ALTER TABLE conversations ADD COLUMN last_author TEXT;
-- Since when the patient waits for an answer: their oldest message after the team's last
-- (the bot's count while the chat is the bot's; in people's hands its queue line is no
-- answer); NULL once answered.
ALTER TABLE conversations ADD COLUMN awaiting_since INTEGER;

-- Since the session's last close, but for ratings of it (a close waits for nobody).
UPDATE conversations SET awaiting_since = (
    SELECT MIN(m.at) FROM messages m
    WHERE m.conversation_id = conversations.id AND m.direction = 'in'
      AND NOT (m.type = 'postback' AND m.text LIKE 'tsunagi:csat:%')
      AND m.at > COALESCE((
          SELECT MAX(s.closed_at) FROM sessions s
          WHERE s.conversation_id = conversations.id AND s.status = 'closed'), 0)
      AND m.id > COALESCE((
          SELECT MAX(o.id) FROM messages o
          WHERE o.conversation_id = conversations.id AND o.direction = 'out'
            AND (o.author IS NOT 'executor' OR conversations.mode = 'bot')), 0));

-- The preview: the newest message of the patient or of a person, or the bot's while the
-- chat is the bot's (as it is now: when each message came is not kept).
UPDATE conversations SET (last_speaker, last_author, last_preview) = (
    SELECT CASE
               WHEN m.direction = 'in' THEN 'patient'
               WHEN m.author IS 'executor' THEN 'bot'
               ELSE 'staff'
           END,
           CASE WHEN m.direction = 'out' AND m.author IS NOT 'executor' THEN m.author END,
           CASE
               WHEN m.unsent THEN '[unsent]'
               WHEN m.type = 'text' AND m.text IS NOT NULL THEN substr(m.text, 1, 80)
               ELSE '[' || m.type || ']'
           END
    FROM messages m
    WHERE m.conversation_id = conversations.id AND m.direction <> 'system'
      AND NOT (m.type = 'postback' AND m.text LIKE 'tsunagi:csat:%')
      AND (m.direction = 'in' OR m.author IS NOT 'executor' OR conversations.mode = 'bot')
    ORDER BY m.id DESC LIMIT 1)
WHERE EXISTS (
    SELECT 1 FROM messages m
    WHERE m.conversation_id = conversations.id AND m.direction <> 'system'
      AND NOT (m.type = 'postback' AND m.text LIKE 'tsunagi:csat:%')
      AND (m.direction = 'in' OR m.author IS NOT 'executor' OR conversations.mode = 'bot'));

-- A message's reply token was taken by a send (the executor noted it replying with it):
-- it can make no other answer free.
ALTER TABLE messages ADD COLUMN reply_token_spent INTEGER NOT NULL DEFAULT 0;
