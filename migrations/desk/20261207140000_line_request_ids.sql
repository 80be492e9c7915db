-- LINE's x-line-request-id of a refused send: what LINE's support asks for.
ALTER TABLE messages ADD COLUMN line_request_id TEXT;
