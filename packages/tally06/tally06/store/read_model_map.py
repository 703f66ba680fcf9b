"""Which map the live read model is summed in, and switching it to another map.

The counters per officer and team are the same in every map; the unit rows are their sums up
one map's tree. Switching re-sums the unit rows from the officer rows through the new map's
holders, under an exclusive lock on the projection's positions: projection steps wait for the
switch and then count in the new map, so nothing is counted in both or in neither.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import asyncpg

from tally06.domain.org_maps import OrgMap
from tally06.store.org import Conn, load_map, map_in_force

_RESUM_DAILY = """
INSERT INTO unit_daily (unit, day, metric, credited, claims)
SELECT a.code, o.day, o.metric, sum(o.credited), sum(o.claims)
FROM officer_daily o
JOIN map_holders h ON h.map_id = $1 AND h.team = o.team
JOIN map_units u ON u.map_id = $1 AND u.code = h.holder
CROSS JOIN LATERAL unnest(u.path) AS a(code)
GROUP BY 1, 2, 3
"""
_RESUM_TOTAL = """
INSERT INTO unit_total (unit, metric, credited, claims)
SELECT a.code, o.metric, sum(o.credited), sum(o.claims)
FROM officer_total o
JOIN map_holders h ON h.map_id = $1 AND h.team = o.team
JOIN map_units u ON u.map_id = $1 AND u.code = h.holder
CROSS JOIN LATERAL unnest(u.path) AS a(code)
GROUP BY 1, 2
"""

# Registry activations no team claimed belong to no team: they are summed from where the citizen
# lives (the village when the map has it, else the commune; a place the map does not know is
# left out until an extract names it in today's codes).
_RESUM_UNCLAIMED_DAILY = """
INSERT INTO unit_daily (unit, day, metric, credited, claims)
SELECT a.code, r.day, r.metric, count(*), 0
FROM registry_unclaimed r
LEFT JOIN map_units v ON v.map_id = $1 AND v.code = r.village
LEFT JOIN map_units c ON c.map_id = $1 AND c.code = r.commune
CROSS JOIN LATERAL unnest(coalesce(v.path, c.path)) AS a(code)
GROUP BY 1, 2, 3
"""
_RESUM_UNCLAIMED_TOTAL = """
INSERT INTO unit_total (unit, metric, credited, claims)
SELECT unit, metric, sum(credited), 0 FROM unit_daily WHERE metric LIKE 'unclaimed%' GROUP BY 1, 2
"""


@dataclass(frozen=True)
class Switch:
    map_id: int
    previous: int | None
    rows: int
    seconds: float


async def read_model_map(conn: Conn) -> int | None:
    return await conn.fetchval("SELECT map_id FROM read_model_map")


async def team_paths(conn: Conn, map_id: int) -> dict[str, tuple[str, ...]]:
    """Every team code ever used → the codes from the map's root down to the team holding it."""
    rows = await conn.fetch(
        "SELECT h.team, u.path FROM map_holders h JOIN map_units u ON u.map_id = h.map_id AND u.code = h.holder "
        "WHERE h.map_id = $1", map_id)
    return {r["team"]: tuple(r["path"]) for r in rows}


async def load_live_map(conn: Conn) -> OrgMap | None:
    """The map live figures are shown in: the read model's, or the map in force before any."""
    map_id = await read_model_map(conn)
    return await load_map(conn, map_id) if map_id is not None else await load_map(conn)


async def switch_read_model(conn: asyncpg.Connection, map_id: int) -> Switch | None:
    """Re-sum the unit rows in a map; None when the read model is in that map already."""
    began = time.perf_counter()
    async with conn.transaction():
        await conn.execute("LOCK TABLE projection_positions IN EXCLUSIVE MODE")
        previous = await conn.fetchval("SELECT map_id FROM read_model_map FOR UPDATE")
        if previous == map_id:
            return None
        await conn.execute("DELETE FROM unit_daily")
        await conn.execute("DELETE FROM unit_total")
        daily = await conn.execute(_RESUM_DAILY, map_id)
        total = await conn.execute(_RESUM_TOTAL, map_id)
        await conn.execute(_RESUM_UNCLAIMED_DAILY, map_id)
        await conn.execute(_RESUM_UNCLAIMED_TOTAL)
        await conn.execute("UPDATE read_model_map SET map_id = $1", map_id)
    rows = int(daily.split()[-1]) + int(total.split()[-1])
    return Switch(map_id, previous, rows, time.perf_counter() - began)


async def switch_if_due(conn: asyncpg.Connection, day: dt.date | None = None) -> Switch | None:
    """Bring the read model to the map in force on a day (today when not given)."""
    due = await map_in_force(conn, day)
    if due is None or due == await read_model_map(conn):
        return None
    return await switch_read_model(conn, due)
