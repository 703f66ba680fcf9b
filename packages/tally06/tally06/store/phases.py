"""Campaign phases in PostgreSQL: an import replaces a unit's set from its ``valid_from``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import asyncpg

from tally06.domain.calendar import Phase


async def save_phases(conn: asyncpg.Connection, phases: Mapping[str, Sequence[Phase]], *, source: str,
                      valid_from: dt.datetime) -> int:
    rows = [(unit, p.name, p.start, p.end, p.goal, valid_from, source) for unit, ps in phases.items() for p in ps]
    await conn.executemany(
        "INSERT INTO campaign_phases (unit, name, starts, ends, goal, valid_from, source) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)", rows)
    return len(rows)


async def phases_at(conn: asyncpg.Connection | asyncpg.Pool, at: dt.datetime) -> dict[str, list[Phase]]:
    """Each unit's phases of the newest import in force at ``at`` (an import replaces a unit's set)."""
    rows = await conn.fetch(
        "SELECT p.unit, p.name, p.starts, p.ends, p.goal FROM campaign_phases p "
        "JOIN (SELECT DISTINCT ON (unit) unit, valid_from FROM campaign_phases WHERE valid_from <= $1 "
        "      ORDER BY unit, valid_from DESC, id DESC) v ON v.unit = p.unit AND v.valid_from = p.valid_from "
        "ORDER BY p.unit, p.starts", at)
    found: dict[str, list[Phase]] = {}
    for r in rows:
        found.setdefault(r["unit"], []).append(Phase(r["name"], r["starts"], r["ends"], r["goal"]))
    return found
