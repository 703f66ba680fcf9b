-- Maps over time (docs/org-maps.md). Each load of the organisation is a version with the day
-- it takes effect; nothing is overwritten. `units` keeps every code a deployment ever had, with
-- its latest name, so that targets, alerts, users and tokens can still refer to them.

ALTER TABLE units DROP CONSTRAINT IF EXISTS units_kind_check;
ALTER TABLE units ADD CONSTRAINT units_kind_check
    CHECK (kind IN ('country', 'province', 'district', 'commune', 'village', 'team'));
-- A unit's parent differs from map to map; map_units holds each map's tree.
ALTER TABLE units DROP CONSTRAINT IF EXISTS units_parent_code_fkey;

CREATE TABLE org_maps (
    id             serial PRIMARY KEY,
    effective_from date NOT NULL,
    loaded_at      timestamptz NOT NULL DEFAULT now(),
    source         text
);

CREATE TABLE map_units (
    map_id      integer NOT NULL REFERENCES org_maps (id),
    code        text NOT NULL,
    name        text NOT NULL,
    kind        text NOT NULL,
    parent_code text,
    -- Codes from the root down to the unit itself.
    path        text[] NOT NULL,
    PRIMARY KEY (map_id, code)
);
CREATE INDEX map_units_path ON map_units USING gin (path);

-- What became of the previous map's units, as the mapping file said.
CREATE TABLE map_changes (
    map_id   integer NOT NULL REFERENCES org_maps (id),
    row      integer NOT NULL,
    old_code text NOT NULL,
    new_code text NOT NULL,
    change   text NOT NULL,
    PRIMARY KEY (map_id, row)
);

-- Every team code ever used → the team of the map that holds its work.
CREATE TABLE map_holders (
    map_id integer NOT NULL REFERENCES org_maps (id),
    team   text NOT NULL,
    holder text NOT NULL,
    PRIMARY KEY (map_id, team)
);

-- The map the read model's unit rows are summed in. Changed only under an exclusive lock on
-- projection_positions, so no projection step writes across the switch.
CREATE TABLE read_model_map (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    map_id    integer REFERENCES org_maps (id)
);
INSERT INTO read_model_map (singleton) VALUES (true);

-- A deployment that already has an org: it becomes map 1, in force from the beginning.
INSERT INTO org_maps (id, effective_from, source)
SELECT 1, DATE '2000-01-01', 'units before map versions' WHERE EXISTS (SELECT 1 FROM units);
SELECT setval('org_maps_id_seq', GREATEST((SELECT max(id) FROM org_maps), 1), EXISTS (SELECT 1 FROM org_maps));

WITH RECURSIVE tree AS (
    SELECT code, name, kind, parent_code, ARRAY[code] AS path FROM units WHERE parent_code IS NULL
    UNION ALL
    SELECT u.code, u.name, u.kind, u.parent_code, t.path || u.code
    FROM units u JOIN tree t ON u.parent_code = t.code
)
INSERT INTO map_units (map_id, code, name, kind, parent_code, path)
SELECT 1, code, name, kind, parent_code, path FROM tree WHERE EXISTS (SELECT 1 FROM org_maps WHERE id = 1);
INSERT INTO map_holders (map_id, team, holder)
SELECT map_id, code, code FROM map_units WHERE kind = 'team';
UPDATE read_model_map SET map_id = (SELECT id FROM org_maps WHERE id = 1);

-- Events keep the lineage they were resolved in and the message key they were published
-- under, frozen: ordering and the projection's positions stay exact whatever later maps say.
ALTER TABLE events ALTER COLUMN province DROP NOT NULL;
ALTER TABLE events ALTER COLUMN district DROP NOT NULL;
ALTER TABLE events ALTER COLUMN commune DROP NOT NULL;
ALTER TABLE events ADD COLUMN fact_key text;
ALTER TABLE events ADD COLUMN map_id integer NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN lineage text[];
-- Facts published before were keyed by district; those keys keep their positions.
UPDATE events SET fact_key = district, lineage = ARRAY[province, district, commune, team];
ALTER TABLE events ALTER COLUMN fact_key SET NOT NULL;
ALTER TABLE events ALTER COLUMN lineage SET NOT NULL;
CREATE INDEX events_team_day ON events (team, day);

-- An ingest of the release before map versions may still be running during an upgrade: its
-- events get the key and lineage of their district-era columns (the WHEN clause keeps the
-- function off the path of current ingests, which fill both).
CREATE FUNCTION events_fill_map_columns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.fact_key := coalesce(NEW.fact_key, NEW.district);
    NEW.lineage := coalesce(NEW.lineage, ARRAY[NEW.province, NEW.district, NEW.commune, NEW.team]);
    RETURN NEW;
END $$;
CREATE TRIGGER events_fill_map_columns BEFORE INSERT ON events
    FOR EACH ROW WHEN (NEW.fact_key IS NULL OR NEW.lineage IS NULL) EXECUTE FUNCTION events_fill_map_columns();
