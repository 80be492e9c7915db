-- Patients' consents and opt-outs.
--
-- `consents` keeps every answer a patient gave (a consent button tapped) or an operator
-- recorded, newest last: to be sent reminders, to have health questions handled on LINE.
-- A contact's `stopped_word` is the stop word they wrote ("stop", "配信停止" …): no
-- reminder goes to them until they agree to reminders again.
CREATE TABLE consents (
    -- The entry that recorded it.
    seq      INTEGER PRIMARY KEY,
    user_id  TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind = 'reminders' OR kind = 'health_on_line'),
    given    INTEGER NOT NULL CHECK (given IN (0, 1)),
    -- The version of the wording they answered.
    wording  TEXT NOT NULL,
    how      TEXT NOT NULL CHECK (how = 'operator' OR how = 'button'),
    -- The operator's device, when an operator recorded it.
    device   TEXT,
    at       INTEGER NOT NULL
) STRICT;
CREATE INDEX consents_user ON consents (user_id, seq);

ALTER TABLE contacts ADD COLUMN stopped_word TEXT;
ALTER TABLE contacts ADD COLUMN stopped_at INTEGER;

-- A reminder's recipient may have been skipped: they opted out (`why`: a stop word, in
-- `reason`; consent withdrawn; or none given where the clinic asks first).
CREATE TABLE reminder_recipients_rebuilt (
    reminder  TEXT NOT NULL REFERENCES reminders (id),
    user_id   TEXT NOT NULL,
    outcome   TEXT CHECK (outcome IS NULL OR outcome = 'sent' OR outcome = 'failed'
                          OR outcome = 'blocked' OR outcome = 'opted_out'),
    reason    TEXT,
    why       TEXT CHECK (why IS NULL OR why = 'stop_word' OR why = 'withdrew'
                          OR why = 'no_consent'),
    at        INTEGER,
    PRIMARY KEY (reminder, user_id)
) STRICT, WITHOUT ROWID;
INSERT INTO reminder_recipients_rebuilt (reminder, user_id, outcome, reason, at)
    SELECT reminder, user_id, outcome, reason, at FROM reminder_recipients;
DROP TABLE reminder_recipients;
ALTER TABLE reminder_recipients_rebuilt RENAME TO reminder_recipients;
