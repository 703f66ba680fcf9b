-- Targets are versioned: a change adds a row that takes effect at `valid_from`; no row is
-- ever updated, so a report for a past moment uses the targets in force then.

CREATE TABLE campaign_targets (
    id         bigserial PRIMARY KEY,
    unit       text NOT NULL REFERENCES units (code),
    total      bigint NOT NULL CHECK (total >= 0),
    level1     bigint NOT NULL CHECK (level1 >= 0),
    level2     bigint NOT NULL CHECK (level2 >= 0),
    valid_from timestamptz NOT NULL,
    source     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaign_targets_unit ON campaign_targets (unit, valid_from DESC, id DESC);
