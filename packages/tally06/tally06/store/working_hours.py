"""Working hours in PostgreSQL, versioned by the first local day they apply to."""

from __future__ import annotations

import datetime as dt

import asyncpg

from tally06.domain.calendar import UnitHours, WorkingHours


async def save_working_hours(
    conn: asyncpg.Connection, rows: list[UnitHours], *, source: str, valid_from: dt.date
) -> int:
    await conn.executemany(
        "INSERT INTO working_hours (unit, starts, ends, valid_from, source) VALUES ($1, $2, $3, $4, $5)",
        [(r.unit_code, r.hours.start, r.hours.end, valid_from, source) for r in rows])
    return len(rows)


async def working_hours_on(conn: asyncpg.Connection | asyncpg.Pool, day: dt.date) -> dict[str, WorkingHours]:
    """The hours units set for themselves in force on a local day (inherited ones not included)."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (unit) unit, starts, ends FROM working_hours "
        "WHERE valid_from <= $1 ORDER BY unit, valid_from DESC, id DESC", day)
    return {r["unit"]: WorkingHours(r["starts"], r["ends"]) for r in rows}
