-- The last sequence number the relay published for each message key (district), at its
-- position. Every fact batch names the key's fact before it, so a consumer can tell a batch
-- that follows what it counted from one that follows facts it never saw (a new, shorter log
-- read from an old offset) and hold the latter back instead of skipping facts for ever.
ALTER TABLE relay_state ADD COLUMN key_heads jsonb NOT NULL DEFAULT '{}'::jsonb;

UPDATE relay_state SET key_heads = COALESCE(
    (SELECT jsonb_object_agg(district, last_seq)
     FROM (SELECT district, max(seq) AS last_seq FROM events
           WHERE seq <= (SELECT position FROM relay_state) GROUP BY district) AS heads),
    '{}'::jsonb);
