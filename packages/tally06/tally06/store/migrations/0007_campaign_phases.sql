-- Phases of a unit's campaign: date ranges with the new activations each must add. The last
-- phase's end is the unit's deadline; units without phases follow their nearest ancestor's.
-- Versioned like the other targets: a new import adds rows, nothing is overwritten.
CREATE TABLE campaign_phases (
    id         bigserial PRIMARY KEY,
    unit       text NOT NULL REFERENCES units (code),
    name       text NOT NULL,
    starts     date NOT NULL,
    ends       date NOT NULL CHECK (starts <= ends),
    goal       bigint NOT NULL CHECK (goal >= 0),
    valid_from timestamptz NOT NULL,
    source     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaign_phases_unit ON campaign_phases (unit, valid_from DESC, id DESC);
