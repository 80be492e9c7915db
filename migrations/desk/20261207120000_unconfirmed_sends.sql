-- A send that ended without LINE's confirmation (a reply answered 5xx or not at all, whose
-- token was spent when asked again): failed as far as the relay knows, but it may have
-- reached the patient. Shown as "may not have arrived", not as "not sent".
ALTER TABLE messages ADD COLUMN unconfirmed INTEGER NOT NULL DEFAULT 0;
