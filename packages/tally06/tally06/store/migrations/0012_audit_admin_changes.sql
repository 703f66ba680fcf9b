-- Audit of admin changes (issue 7): token issue and revoke, org, target and focal-point
-- imports, personal-data re-encryption and retention append to the same append-only audit_log
-- as report exports (0008). Such a change has no reporting period and not always one unit, so
-- both may now be empty rather than filled with made-up values. What it changed is in
-- `target`, a short summary (never personal data, never a secret) in detail->>'summary'.
-- DROP NOT NULL rewrites nothing and keeps every row as it was written.

ALTER TABLE audit_log
    ALTER COLUMN unit DROP NOT NULL,
    ALTER COLUMN period_to DROP NOT NULL;

-- `tally06 audit list --action token` reads one kind of change over a long log.
CREATE INDEX audit_log_action ON audit_log (action, at);
