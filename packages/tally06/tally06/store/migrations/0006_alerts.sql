-- Alerts raised by the notifier and the notifications that carry them to focal points.

-- At most one alert per (unit, rule, day): a unit that falls behind again the same day reopens
-- its alert instead of raising a second one.
CREATE TABLE alerts (
    id              bigserial PRIMARY KEY,
    unit            text NOT NULL REFERENCES units (code),
    rule            text NOT NULL CHECK (rule IN ('pace', 'missed_daily', 'silent')),
    day             date NOT NULL,
    status          text NOT NULL CHECK (status IN ('open', 'resolved')),
    opened_at       timestamptz NOT NULL,
    -- The latest (re)opening; a silent team that is heard from after it has spoken again.
    last_opened_at  timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    resolved_at     timestamptz,
    resolution      text,
    reopened        integer NOT NULL DEFAULT 0,
    acknowledged_at timestamptz,
    acknowledged_by text,
    escalated_at    timestamptz,
    last_notified_at timestamptz,
    reminders       integer NOT NULL DEFAULT 0,
    detail          jsonb NOT NULL,
    UNIQUE (unit, rule, day)
);
CREATE INDEX alerts_open ON alerts (status, day);

-- One row per message to one recipient. `dedupe_key` names the message (alert 7, reminder 2,
-- recipient 3), so running a decision twice, or two notifiers racing, cannot send it twice.
-- A row is claimed ('sending') in its own commit before the network call; one found 'sending'
-- after a crash may or may not have reached the recipient and is marked 'uncertain', never
-- resent: a focal point must not get the same alert twice.
CREATE TABLE notifications (
    id              bigserial PRIMARY KEY,
    dedupe_key      text NOT NULL UNIQUE,
    alert_id        bigint REFERENCES alerts (id),
    recipient_id    bigint NOT NULL REFERENCES focal_points (id),
    kind            text NOT NULL CHECK (kind IN ('alert', 'reminder', 'escalation', 'digest')),
    subject         text NOT NULL,
    body            text NOT NULL,
    payload         jsonb NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'uncertain')),
    not_before      timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE state = 'pending';
CREATE INDEX notifications_alert ON notifications (alert_id);

-- When the notifier last saw a change for a unit, by its own clock: a team with no change
-- for N working hours is silent.
CREATE TABLE unit_activity (
    unit      text PRIMARY KEY REFERENCES units (code),
    last_seen timestamptz NOT NULL
);

-- Day-level jobs already done (end-of-day check, morning digest), so a restart does not redo them.
CREATE TABLE notifier_jobs (
    job     text NOT NULL,
    day     date NOT NULL,
    done_at timestamptz NOT NULL,
    PRIMARY KEY (job, day)
);
