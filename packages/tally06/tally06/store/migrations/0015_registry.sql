-- The national registry's extracts and the reconciliation of activation claims against them
-- (docs/registry.md). The CCCD is never stored, not even sealed: a citizen is its keyed hash.

-- One row per extract loaded. The digest (keyed, over the file's bytes) recognises the same
-- file loaded again; extracts come in order of as_of unless forced.
CREATE TABLE registry_extracts (
    id          serial PRIMARY KEY,
    as_of       timestamptz NOT NULL,
    digest      text NOT NULL UNIQUE,
    source      text,
    rows        integer NOT NULL,
    changed     integer NOT NULL,
    forced      boolean NOT NULL DEFAULT false,
    imported_by text,
    imported_at timestamptz NOT NULL DEFAULT now()
);

-- Every change of a registry record takes the next number: the reconciler follows them by
-- position, and imports run one at a time (they lock registry_extracts), so numbers become
-- visible in order.
CREATE SEQUENCE registry_change_seq;

-- What the registry last said of each citizen. A record is replaced only by an extract at least
-- as recent as the one that wrote it (as_of), so a forced late extract fills gaps and never
-- turns a newer record back.
CREATE TABLE registry_citizens (
    citizen_key  text PRIMARY KEY,
    status       text NOT NULL CHECK (status IN ('collected', 'approved', 'activated', 'rejected')),
    level        smallint NOT NULL CHECK (level IN (1, 2)),
    collected_on date,
    approved_on  date,
    activated_on date,
    rejected_on  date,
    commune      text NOT NULL,
    village      text,
    as_of        timestamptz NOT NULL,
    extract_id   integer NOT NULL REFERENCES registry_extracts (id),
    change_seq   bigint NOT NULL DEFAULT nextval('registry_change_seq'),
    -- Full name and phone, sealed (AES-GCM bound to citizen_key), for the work lists only.
    pii_key_id   text,
    pii_sealed   bytea
);
CREATE INDEX registry_citizens_change ON registry_citizens (change_seq);
CREATE INDEX registry_citizens_area ON registry_citizens (commune, village, status);

-- The registry's verdict on each credited activation claim (events.seq). Written only by the
-- reconciler, which adds the matching counters in the same transaction.
CREATE TABLE claim_states (
    seq         bigint PRIMARY KEY,
    citizen_key text NOT NULL,
    team        text NOT NULL,
    officer     text NOT NULL,
    day         date NOT NULL,
    level       smallint NOT NULL,
    state       text NOT NULL CHECK (state IN ('confirmed', 'pending', 'unconfirmed', 'already_active',
                                               'level_differs')),
    window_end  date NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX claim_states_citizen ON claim_states (citizen_key);
CREATE INDEX claim_states_pending ON claim_states (window_end) WHERE state = 'pending';

-- Registry activations no team claimed, as the reconciler counted them (where the citizen
-- lives, the day and level of the activation), so a later claim can take them back out.
CREATE TABLE registry_unclaimed (
    citizen_key text PRIMARY KEY,
    commune     text NOT NULL,
    village     text,
    day         date NOT NULL,
    metric      text NOT NULL
);

-- How far the reconciler has read: events (claims), registry changes, and the registry day
-- the pending claims were last judged against.
CREATE TABLE reconcile_state (
    singleton         boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    claims_position   bigint NOT NULL DEFAULT 0,
    registry_position bigint NOT NULL DEFAULT 0,
    as_of             date
);
INSERT INTO reconcile_state (singleton) VALUES (true);

CREATE INDEX events_activation_claims ON events (seq) WHERE credited AND type = 'account_activated';
