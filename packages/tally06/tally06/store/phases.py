"""Campaign phases in PostgreSQL: an import replaces a unit's set from its ``valid_from``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import asyncpg

from tally06.domain.calendar import Phase
from tally06.store.versioned import add_version, in_force_sql


async def save_phases(conn: asyncpg.Connection, phases: Mapping[str, Sequence[Phase]], *, source: str,
                      valid_from: dt.datetime) -> int:
    return await add_version(conn, "campaign_phases", ("unit", "name", "starts", "ends", "goal"),
                             [(unit, p.name, p.start, p.end, p.goal) for unit, ps in phases.items() for p in ps],
                             valid_from=valid_from, source=source)


async def phases_at(conn: asyncpg.Connection | asyncpg.Pool, at: dt.datetime) -> dict[str, list[Phase]]:
    """Each unit's phases of the newest import in force at ``at`` (an import replaces a unit's set)."""
    rows = await conn.fetch(
        "SELECT p.unit, p.name, p.starts, p.ends, p.goal FROM campaign_phases p "
        f"JOIN ({in_force_sql('campaign_phases', ('unit',), ('unit', 'valid_from'))}) v "
        "ON v.unit = p.unit AND v.valid_from = p.valid_from "
        "ORDER BY p.unit, p.starts", at)
    found: dict[str, list[Phase]] = {}
    for r in rows:
        found.setdefault(r["unit"], []).append(Phase(r["name"], r["starts"], r["ends"], r["goal"]))
    return found
