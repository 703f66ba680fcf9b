-- citizen_pii rows are written only by the ingest statement that stores their event, in the
-- same statement and transaction, and events are never deleted: the foreign key could never
-- fire. Its per-row check was not free, though: it locked every new event row again (FOR KEY
-- SHARE rewrites the row's header and logs it), about a sixth of the time of that statement,
-- which runs under the sequence lock every ingest writer takes in turn (docs/performance.md).
ALTER TABLE citizen_pii DROP CONSTRAINT citizen_pii_seq_fkey;
COMMENT ON COLUMN citizen_pii.seq IS
    'events.seq of the event these values came with (written in the same statement; no foreign key, see migration 0013)';
