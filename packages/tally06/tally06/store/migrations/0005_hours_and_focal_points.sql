-- Working hours per unit, versioned by the first local day they apply to. A unit without its
-- own row works the hours of its nearest ancestor that has one, else 07:30–22:00.
CREATE TABLE working_hours (
    id         bigserial PRIMARY KEY,
    unit       text NOT NULL REFERENCES units (code),
    starts     time NOT NULL,
    ends       time NOT NULL CHECK (starts < ends),
    valid_from date NOT NULL,
    source     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX working_hours_unit ON working_hours (unit, valid_from DESC, id DESC);

-- The people alerts about a unit's children go to: a commune's focal point hears about its
-- teams, a district's about its communes, the province's about its districts. One person may
-- have several channels; each (unit, channel, address) is one recipient. Rows are retired, not
-- deleted, so old notifications keep naming who received them.
CREATE TABLE focal_points (
    id         bigserial PRIMARY KEY,
    unit       text NOT NULL REFERENCES units (code),
    name       text NOT NULL,
    channel    text NOT NULL CHECK (channel IN ('email', 'webhook', 'console')),
    address    text NOT NULL,
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    retired_at timestamptz
);
CREATE UNIQUE INDEX focal_points_active ON focal_points (unit, channel, address) WHERE active;
