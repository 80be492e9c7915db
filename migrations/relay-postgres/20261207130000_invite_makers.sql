-- Who minted each code (NULL: the relay's own setup code), an id to list and withdraw it
-- by (the code itself is kept only as a hash), and when it was withdrawn: by an owner, by
-- its maker's revocation, or by a newer setup code.
ALTER TABLE invites ADD COLUMN id TEXT;
ALTER TABLE invites ADD COLUMN created_by TEXT REFERENCES devices (id);
ALTER TABLE invites ADD COLUMN withdrawn_at BIGINT;
CREATE UNIQUE INDEX invites_id ON invites (id);
CREATE INDEX invites_outstanding ON invites (channel_id, expires_at)
    WHERE used_at IS NULL AND withdrawn_at IS NULL;
