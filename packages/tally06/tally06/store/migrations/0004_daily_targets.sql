-- Daily targets per team (and optionally per commune), per metric or metric family, versioned
-- by the first local day they apply to; rows are never updated.
CREATE TABLE daily_targets (
    id         bigserial PRIMARY KEY,
    unit       text NOT NULL REFERENCES units (code),
    metric     text NOT NULL,
    target     integer NOT NULL CHECK (target >= 0),
    valid_from date NOT NULL,
    source     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX daily_targets_unit ON daily_targets (unit, metric, valid_from DESC, id DESC);
