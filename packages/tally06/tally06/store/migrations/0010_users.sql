-- People who sign in to the wallboard and read API (issue 7). A user has one role and one unit:
-- the unit is the top of the subtree the user may read (the province for operators and admins).
-- Passwords are stored as Argon2id hashes only. token_version is part of every session token:
-- raising it (sign-out everywhere, password change, disable) ends the user's sessions at once.
CREATE TABLE users (
    id              bigserial PRIMARY KEY,
    username        text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9._-]{3,40}$'),
    display_name    text NOT NULL,
    role            text NOT NULL CHECK (role IN ('team_lead', 'commune_focal', 'district_focal',
                                                  'province_operator', 'admin')),
    unit            text NOT NULL REFERENCES units (code),
    password_hash   text NOT NULL,
    token_version   integer NOT NULL DEFAULT 1,
    disabled_at     timestamptz,
    failed_sign_ins integer NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    last_sign_in_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
