"""Working hours in PostgreSQL, versioned by the first local day they apply to."""

from __future__ import annotations

import datetime as dt

import asyncpg

from tally06.domain.calendar import UnitHours, WorkingHours
from tally06.store.versioned import add_version, rows_in_force


async def save_working_hours(
    conn: asyncpg.Connection, rows: list[UnitHours], *, source: str, valid_from: dt.date
) -> int:
    return await add_version(conn, "working_hours", ("unit", "starts", "ends"),
                             [(r.unit_code, r.hours.start, r.hours.end) for r in rows], valid_from=valid_from,
                             source=source)


async def working_hours_on(conn: asyncpg.Connection | asyncpg.Pool, day: dt.date) -> dict[str, WorkingHours]:
    """The hours units set for themselves in force on a local day (inherited ones not included)."""
    rows = await rows_in_force(conn, "working_hours", ("unit",), ("unit", "starts", "ends"), day)
    return {r["unit"]: WorkingHours(r["starts"], r["ends"]) for r in rows}
