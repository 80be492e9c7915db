-- When a patient wrote words of an emergency in this session (the first time): such a
-- session leads the waiting queue and is marked in every list while it is open.
ALTER TABLE sessions ADD COLUMN urgent_at INTEGER;
