-- Implausible activity (issue 7): an officer credited with more account activations in one
-- local hour than a person can do (TALLY06_IMPLAUSIBLE_ACTIVATIONS_PER_HOUR, 40 by default:
-- one takes about 90 s) is flagged for a person to review. The events are accepted all the
-- same; a flag is a question, not a verdict. Officer ids and team codes only: nothing here
-- says anything about the citizens served. See docs/abuse-limits.md.

-- Credited account activations per officer and local clock hour (Asia/Ho_Chi_Minh wall clock,
-- on the hour) of occurred_at, kept by ingest after each commit. About one row per officer
-- and working hour, a small fraction of the events table.
CREATE TABLE officer_hour_activations (
    officer     text NOT NULL,
    local_hour  timestamp NOT NULL,
    team        text NOT NULL,          -- of the officer's latest event in the hour
    activations integer NOT NULL,
    PRIMARY KEY (officer, local_hour)
);

-- One row per flagged (officer, local hour); activations keeps growing while more arrive.
CREATE TABLE activity_flags (
    officer          text NOT NULL,
    local_hour       timestamp NOT NULL,
    team             text NOT NULL,
    activations      integer NOT NULL,
    threshold        integer NOT NULL,
    first_flagged_at timestamptz NOT NULL,
    last_flagged_at  timestamptz NOT NULL,
    PRIMARY KEY (officer, local_hour)
);
CREATE INDEX activity_flags_first_flagged ON activity_flags (first_flagged_at);
CREATE INDEX activity_flags_team_hour ON activity_flags (team, local_hour);
