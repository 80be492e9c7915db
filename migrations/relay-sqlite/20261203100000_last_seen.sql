-- When each device last called the relay (kept at most once a minute), for the owner's
-- list of devices.
ALTER TABLE devices ADD COLUMN last_seen_at INTEGER;
