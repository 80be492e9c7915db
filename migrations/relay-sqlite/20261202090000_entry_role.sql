-- The role of the device that appended an op, as it was then ('owner' or 'staff'): what
-- the projection decides transfers and closes by. NULL for the executor's ops and for
-- those logged before roles were recorded.
ALTER TABLE entries ADD COLUMN role TEXT;
