-- Read model of the aggregator: counters per unit (every level) and per officer, per local day
-- and cumulative. `credited` counts facts that earned the credit, `claims` the duplicate
-- claims (a later event for a citizen and metric already credited).

-- Versions come from one sequence, so they keep growing across a rebuild of the view.
CREATE SEQUENCE counter_version;

CREATE TABLE unit_daily (
    unit     text NOT NULL,
    day      date NOT NULL,
    metric   text NOT NULL,
    credited bigint NOT NULL DEFAULT 0,
    claims   bigint NOT NULL DEFAULT 0,
    -- Grows with every change, so consumers of the progress stream keep the newest value.
    version  bigint NOT NULL DEFAULT nextval('counter_version'),
    PRIMARY KEY (unit, day, metric)
);
CREATE INDEX unit_daily_day ON unit_daily (day);

CREATE TABLE unit_total (
    unit     text NOT NULL,
    metric   text NOT NULL,
    credited bigint NOT NULL DEFAULT 0,
    claims   bigint NOT NULL DEFAULT 0,
    version  bigint NOT NULL DEFAULT nextval('counter_version'),
    PRIMARY KEY (unit, metric)
);

CREATE TABLE officer_daily (
    team     text NOT NULL,
    officer  text NOT NULL,
    day      date NOT NULL,
    metric   text NOT NULL,
    credited bigint NOT NULL DEFAULT 0,
    claims   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (team, officer, day, metric)
);

CREATE TABLE officer_total (
    team     text NOT NULL,
    officer  text NOT NULL,
    metric   text NOT NULL,
    credited bigint NOT NULL DEFAULT 0,
    claims   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (team, officer, metric)
);

-- The last event-store sequence number applied per message key (district). Committed in the
-- same transaction as the counters, so a replayed fact is recognised and skipped.
CREATE TABLE projection_positions (
    projection text NOT NULL,
    key        text NOT NULL,
    position   bigint NOT NULL DEFAULT 0,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, key)
);
