-- Backlog goals (docs/backlog-goals.md): a share of a registry list in a unit, due by a day.
-- The baseline is frozen when a goal is set: later extracts move its progress, never its size.

CREATE TABLE backlog_goals (
    id       serial PRIMARY KEY,
    unit     text NOT NULL,
    list     text NOT NULL CHECK (list IN ('approved_not_activated', 'not_registered')),
    -- Percent of the baseline, as the letters write it (100, 80).
    share    numeric(5, 2) NOT NULL CHECK (share > 0 AND share <= 100),
    due      date NOT NULL,
    baseline integer NOT NULL CHECK (baseline >= 0),
    -- The local day the goal was set: the first of its work days.
    set_on   date NOT NULL,
    set_at   timestamptz NOT NULL,
    set_by   text,
    -- The map whose tree said which citizens live in the unit when the baseline was frozen.
    map_id   integer,
    CHECK (due >= set_on)
);
CREATE INDEX backlog_goals_unit ON backlog_goals (unit);

-- The citizens a goal's baseline counted (approved_not_activated): the list is of people, so
-- progress follows these very people, wherever the registry later says they live.
CREATE TABLE backlog_goal_members (
    goal_id     integer NOT NULL REFERENCES backlog_goals (id) ON DELETE CASCADE,
    citizen_key text NOT NULL,
    PRIMARY KEY (goal_id, citizen_key)
);
