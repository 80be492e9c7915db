-- A patient's quote names the message it quotes by LINE's id: found without a scan.
CREATE INDEX messages_line_id ON messages (conversation_id, line_message_id)
    WHERE line_message_id IS NOT NULL;
