-- Event store, credits, protected personal data, org registry and device tokens.

CREATE TABLE units (
    code        text PRIMARY KEY,
    name        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('province', 'district', 'commune', 'team')),
    parent_code text REFERENCES units (code) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE device_tokens (
    id          text PRIMARY KEY,
    token_hash  bytea NOT NULL UNIQUE,
    team        text NOT NULL REFERENCES units (code),
    label       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- One row; its lock serialises writers so sequence numbers commit in order, with no gaps
-- a reader could overtake.
CREATE TABLE event_seq (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_seq  bigint NOT NULL
);
INSERT INTO event_seq VALUES (true, 0);

CREATE TABLE events (
    seq            bigint PRIMARY KEY,
    event_id       uuid NOT NULL UNIQUE,
    content_digest text NOT NULL,
    schema_version smallint NOT NULL,
    type           text NOT NULL,
    level          smallint,
    metric         text NOT NULL,
    occurred_at    timestamptz NOT NULL,
    day            date NOT NULL,
    received_at    timestamptz NOT NULL,
    province       text NOT NULL,
    district       text NOT NULL,
    commune        text NOT NULL,
    team           text NOT NULL,
    officer        text NOT NULL,
    citizen_key    text NOT NULL,
    credited       boolean NOT NULL,
    token_id       text
);
CREATE INDEX events_citizen ON events (citizen_key);
CREATE INDEX events_received ON events (received_at);

-- The first accepted event for a (citizen, metric) earns the credit.
CREATE TABLE credits (
    citizen_key text NOT NULL,
    metric      text NOT NULL,
    seq         bigint NOT NULL,
    PRIMARY KEY (citizen_key, metric)
);

-- Clear personal data, only ever encrypted (AES-GCM, key id for rotation).
CREATE TABLE citizen_pii (
    seq         bigint PRIMARY KEY REFERENCES events (seq),
    citizen_key text NOT NULL,
    key_id      text NOT NULL,
    sealed      bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Where the outbox relay is, and the last message it knows the broker holds: if the broker
-- no longer has that message, it lost its log and everything is published again.
CREATE TABLE relay_state (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    position      bigint NOT NULL DEFAULT 0,
    broker_epoch  integer NOT NULL DEFAULT 0,
    probe_partition integer,
    probe_offset  bigint,
    probe_seq     bigint,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
INSERT INTO relay_state (singleton) VALUES (true);
