"""Judging every claim again at once, for a rebuild: the rule of ``tally06.domain.registry.
claim_state`` as one set-based statement, and the counters summed from its result.

The step-by-step reconciler (``store.reconciliation``) judges claims a few thousand at a time in
Python, which suits the live path (what changed since the last step). A rebuild judges a million
claims from an empty state, and row by row in Python took longer than counting the events
themselves; here PostgreSQL does it in a few statements. Both paths are held to the same ground
truth by the tests (tests/integration/aggregator/test_registry_reconciliation.py checks the
states and counters live and after ``tally06 rebuild``).
"""

from __future__ import annotations

import asyncpg

from tally06.domain.registry import ReconcileRules
from tally06.store.reconciliation import registry_day

# The CASE follows claim_state branch by branch: no activation (pending until an extract is past
# the window's end), before the window, after it, another level, confirmed.
_JUDGE = """
INSERT INTO claim_states (seq, citizen_key, team, officer, day, level, state, window_end)
SELECT e.seq, e.citizen_key, e.team, e.officer, e.day, e.level,
       CASE
           WHEN r.activated_on IS NULL THEN
               CASE WHEN $1::date IS NOT NULL AND $1::date > e.day + $3::int THEN 'unconfirmed' ELSE 'pending' END
           WHEN r.activated_on < e.day - $2::int THEN 'already_active'
           WHEN r.activated_on > e.day + $3::int THEN 'unconfirmed'
           WHEN r.level <> e.level THEN 'level_differs'
           ELSE 'confirmed'
       END,
       e.day + $3::int
FROM events e LEFT JOIN registry_citizens r ON r.citizen_key = e.citizen_key
WHERE e.credited AND e.type = 'account_activated'
"""
_UNCLAIMED = """
INSERT INTO registry_unclaimed (citizen_key, commune, village, day, metric)
SELECT r.citizen_key, r.commune, r.village, r.activated_on, 'unclaimed_l' || r.level
FROM registry_citizens r
WHERE r.activated_on IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM claim_states c WHERE c.citizen_key = r.citizen_key)
"""
_OFFICER_DAILY = """
INSERT INTO officer_daily AS t (team, officer, day, metric, credited, claims)
SELECT team, officer, day, state || '_l' || level, count(*), 0 FROM claim_states GROUP BY 1, 2, 3, 4
ON CONFLICT (team, officer, day, metric) DO UPDATE SET credited = t.credited + excluded.credited
"""
_OFFICER_TOTAL = """
INSERT INTO officer_total AS t (team, officer, metric, credited, claims)
SELECT team, officer, state || '_l' || level, count(*), 0 FROM claim_states GROUP BY 1, 2, 3
ON CONFLICT (team, officer, metric) DO UPDATE SET credited = t.credited + excluded.credited
"""
# Claims up their team's path in the read model's map; unclaimed activations up the path of
# where the citizen lives (the village when the map has it, else the commune), as the switch
# of maps sums them.
_UNIT_DAILY = """
INSERT INTO unit_daily AS t (unit, day, metric, credited, claims)
SELECT a.code, x.day, x.metric, sum(x.n), 0 FROM (
    SELECT u.path, c.day, c.state || '_l' || c.level AS metric, count(*) AS n
    FROM claim_states c
    JOIN map_holders h ON h.map_id = $1 AND h.team = c.team
    JOIN map_units u ON u.map_id = $1 AND u.code = h.holder
    GROUP BY 1, 2, 3
    UNION ALL
    SELECT coalesce(v.path, m.path), r.day, r.metric, count(*)
    FROM registry_unclaimed r
    LEFT JOIN map_units v ON v.map_id = $1 AND v.code = r.village
    LEFT JOIN map_units m ON m.map_id = $1 AND m.code = r.commune
    WHERE coalesce(v.path, m.path) IS NOT NULL
    GROUP BY 1, 2, 3
) x CROSS JOIN LATERAL unnest(x.path) AS a(code)
GROUP BY 1, 2, 3
ON CONFLICT (unit, day, metric) DO UPDATE
SET credited = t.credited + excluded.credited, version = nextval('counter_version')
"""
_UNIT_TOTAL = """
INSERT INTO unit_total AS t (unit, metric, credited, claims)
SELECT unit, metric, sum(credited), 0 FROM unit_daily WHERE metric <> ALL($1::text[]) GROUP BY 1, 2
ON CONFLICT (unit, metric) DO UPDATE
SET credited = t.credited + excluded.credited, version = nextval('counter_version')
"""


async def judge_all(conn: asyncpg.Connection, rules: ReconcileRules, event_metrics: list[str]) -> int:
    """Forget every judgement and judge every credited claim again; the caller holds the
    transaction and has emptied the registry counters (a rebuild empties them all). Returns the
    claims judged. ``event_metrics``: the counters that are not the registry's."""
    # An import running now would add change numbers this judgement has not seen, yet the
    # position below would pass them: imports wait (they take EXCLUSIVE on it).
    await conn.execute("LOCK TABLE registry_extracts IN SHARE MODE")
    await conn.execute("DELETE FROM claim_states")
    await conn.execute("DELETE FROM registry_unclaimed")
    as_of = await registry_day(conn)
    judged = int((await conn.execute(_JUDGE, as_of, rules.before_days, rules.after_days)).split()[-1])
    await conn.execute(_UNCLAIMED)
    await conn.execute(_OFFICER_DAILY)
    await conn.execute(_OFFICER_TOTAL)
    map_id = await conn.fetchval("SELECT map_id FROM read_model_map")
    if map_id is not None:
        await conn.execute(_UNIT_DAILY, map_id)
        await conn.execute(_UNIT_TOTAL, event_metrics)
    await conn.execute(
        "UPDATE reconcile_state SET as_of = $1, "
        "claims_position = coalesce((SELECT max(seq) FROM claim_states), 0), "
        "registry_position = coalesce((SELECT max(change_seq) FROM registry_citizens), 0)", as_of)
    return judged
