-- Spot checks (kiểm tra xác suất, docs/spot-checks.md): a random sample of a unit's claims,
-- checked by the police by phone or visit, judged by an LQAS rule fixed before the draw.

-- The thresholds a province sets (tally06.domain.lqas.Thresholds); a draw for a unit takes those
-- of the nearest unit above it that has some, else tally06.domain.spot_checks.DEFAULT_THRESHOLDS.
CREATE TABLE spot_check_thresholds (
    unit   text PRIMARY KEY,
    upper  double precision NOT NULL CHECK (upper > 0 AND upper <= 1),
    lower  double precision NOT NULL CHECK (lower >= 0 AND lower < upper),
    alpha  double precision NOT NULL CHECK (alpha > 0 AND alpha < 0.5),
    beta   double precision NOT NULL CHECK (beta > 0 AND beta < 0.5),
    set_by text NOT NULL,
    set_at timestamptz NOT NULL DEFAULT now()
);

-- One draw. Everything needed to draw it again is here: the frozen population (events.seq of
-- the claims, ascending) with its SHA-256, the seed and the rule. The verdict columns are written
-- in the transaction that records the outcome settling it, and never change after.
CREATE TABLE spot_checks (
    id                bigserial PRIMARY KEY,
    unit              text NOT NULL,
    map_version       integer,            -- the map the unit's teams were taken from
    teams             text[] NOT NULL,    -- the team codes whose claims made the population (replay reads them again)
    population        text NOT NULL CHECK (population IN ('credited', 'unconfirmed')),
    period_from       timestamptz,
    period_to         timestamptz NOT NULL,
    seed              bytea NOT NULL,
    population_seqs   bigint[] NOT NULL,
    population_digest text NOT NULL,
    population_size   integer NOT NULL,
    n                 integer NOT NULL CHECK (n >= 1),
    d                 integer NOT NULL CHECK (d >= 0 AND d < n),
    -- The thresholds the rule was designed for (or, for a rule given explicitly, judged at).
    upper             double precision NOT NULL,
    lower             double precision NOT NULL,
    alpha             double precision NOT NULL,
    beta              double precision NOT NULL,
    alpha_actual      double precision NOT NULL,
    beta_actual       double precision NOT NULL,
    rule_given        boolean NOT NULL,   -- n and d given explicitly rather than designed
    tries             integer NOT NULL DEFAULT 3,
    -- Whether a failure marks the unit's figures in rankings and Appendix I.
    marks_figures     boolean NOT NULL DEFAULT true,
    status            text NOT NULL DEFAULT 'open'
                      CHECK (status IN ('open', 'passed', 'failed', 'inconclusive')),
    successes         integer NOT NULL DEFAULT 0,
    failures          integer NOT NULL DEFAULT 0,
    estimate          double precision,
    ci_low            double precision,
    ci_high           double precision,
    drawn_by          text NOT NULL,
    drawn_at          timestamptz NOT NULL DEFAULT now(),
    decided_at        timestamptz
);
-- A province's frozen list is megabytes of numbers that compress poorly: compressing it took
-- three quarters of the time to store it (bench/spot_checks.py); stored as it is, out of line.
ALTER TABLE spot_checks ALTER COLUMN population_seqs SET STORAGE EXTERNAL;
CREATE INDEX spot_checks_unit ON spot_checks (unit, drawn_at DESC);
CREATE INDEX spot_checks_decided ON spot_checks (status, decided_at) WHERE status <> 'open';

-- The drawn claims in draw order: the first n are the sample, the rest reserves. Copied from the
-- event store when drawn, so a check reads the same later whatever happens to the read model.
CREATE TABLE spot_check_items (
    check_id    bigint NOT NULL REFERENCES spot_checks (id),
    rank        integer NOT NULL,
    seq         bigint NOT NULL,           -- events.seq of the claim (citizen_pii.seq opens its name and phone)
    citizen_key text NOT NULL,
    team        text NOT NULL,
    officer     text NOT NULL,
    level       smallint NOT NULL,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (check_id, rank)
);

-- What verifiers found, append only: a retry of the same client-made id records nothing new.
-- An item has at most one final outcome (the partial unique index): a second verifier who
-- records another is told who recorded what. 'no_answer' rows are tries; enough of them make
-- the item unreachable (spot_checks.tries).
CREATE TABLE spot_check_outcomes (
    id          uuid PRIMARY KEY,
    check_id    bigint NOT NULL,
    rank        integer NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('confirmed', 'not_activated', 'not_own_account',
                                                 'not_guided', 'no_answer', 'unreachable')),
    note        text CHECK (length(note) <= 500),
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (check_id, rank) REFERENCES spot_check_items (check_id, rank)
);
CREATE UNIQUE INDEX spot_check_outcomes_final ON spot_check_outcomes (check_id, rank) WHERE outcome <> 'no_answer';
CREATE INDEX spot_check_outcomes_check ON spot_check_outcomes (check_id, recorded_at);

ALTER TABLE alerts DROP CONSTRAINT alerts_rule_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_rule_check
    CHECK (rule IN ('pace', 'missed_daily', 'silent', 'low_confirmation', 'spot_check_failed'));
