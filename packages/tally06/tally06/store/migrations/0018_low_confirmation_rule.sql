-- The low_confirmation rule (docs/alerts.md): a unit whose activation claims the national
-- registry confirms too rarely, once their windows have passed.
ALTER TABLE alerts DROP CONSTRAINT alerts_rule_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_rule_check
    CHECK (rule IN ('pace', 'missed_daily', 'silent', 'low_confirmation'));
