-- Work lists (docs/work-lists.md): which team works which village, and what the teams found.
-- The lists themselves are not stored: they are queries over registry_citizens (0015), so a
-- citizen an extract shows activated leaves them by itself.

-- The areas teams work: a village of a commune, or the whole commune (village = ''), as the
-- registry writes them. One team per area; the commune is always the team's own (checked on
-- load). Edited by `tally06 worklists areas` / `assign`, each change in the audit log.
CREATE TABLE work_areas (
    commune     text NOT NULL,
    village     text NOT NULL DEFAULT '',
    team        text NOT NULL,
    assigned_by text,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (commune, village)
);
CREATE INDEX work_areas_team ON work_areas (team);

-- What a team found about a citizen on a list, with a reason code. Every outcome is kept (a
-- citizen unreachable on Monday may promise to activate on Friday); lists show the latest.
-- The note is free text typed by a team lead: the page asks for no names or numbers in it.
CREATE TABLE worklist_outcomes (
    id          bigserial PRIMARY KEY,
    citizen_key text NOT NULL,
    reason      text NOT NULL CHECK (reason IN ('no_smartphone', 'phone_not_own', 'away_from_home', 'data_error',
                                                'no_activation_code', 'will_activate', 'activated', 'refused',
                                                'unreachable', 'moved_away', 'deceased', 'other')),
    note        text CHECK (length(note) <= 500),
    team        text,
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX worklist_outcomes_latest ON worklist_outcomes (citizen_key, id DESC);
