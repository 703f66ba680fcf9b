-- Audit log of report exports (issue 6): who exported what, when, with clear personal data or
-- masked. Append-only: rows are never updated or deleted (a trigger refuses it), so the log
-- can be shown to an inspector as it was written.

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    role        text NOT NULL,
    action      text NOT NULL,          -- e.g. 'export.appendix1', 'export.appendix2'
    unit        text NOT NULL,
    period_from timestamptz,
    period_to   timestamptz NOT NULL,
    clear_pii   boolean NOT NULL,
    row_count   integer NOT NULL,
    target      text NOT NULL,          -- the file written
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END;
$$;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
