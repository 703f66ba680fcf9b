"""Focal points in PostgreSQL.

Recipients are retired, never deleted or edited: notifications already sent keep pointing at
the row, and so at the name, they went to.
"""

from __future__ import annotations

import asyncpg

from tally06.domain.focal_points import FocalPointRow, LoadResult, Recipient


async def load_focal_points(conn: asyncpg.Connection, rows: list[FocalPointRow], *, replace: bool) -> LoadResult:
    """Make the rows active recipients, in one transaction.

    A recipient already active with the same name is kept (same id). One with a new name is
    retired and inserted again, so earlier notifications keep the name they were sent to.
    With ``replace``, the other active recipients of the units in ``rows`` are retired too;
    units not in ``rows`` are never touched.
    """
    wanted = {(r.unit_code, r.channel, r.address): r for r in rows}
    retire: list[int] = []
    kept = 0
    async with conn.transaction():
        current = await conn.fetch(
            "SELECT id, unit, name, channel, address FROM focal_points "
            "WHERE active AND unit = ANY($1::text[]) FOR UPDATE", sorted({r.unit_code for r in rows}))
        for row in current:
            key = (row["unit"], row["channel"], row["address"])
            same = wanted.get(key)
            if same is not None and same.name == row["name"]:
                kept += 1
                del wanted[key]
            elif same is not None or replace:
                retire.append(row["id"])
        # Retire first: the unique index allows one active row per (unit, channel, address).
        await conn.execute(
            "UPDATE focal_points SET active = false, retired_at = now() WHERE id = ANY($1::bigint[])", retire)
        await conn.executemany(
            "INSERT INTO focal_points (unit, name, channel, address) VALUES ($1, $2, $3, $4)",
            [(r.unit_code, r.name, r.channel, r.address) for r in wanted.values()])
    return LoadResult(added=len(wanted), retired=len(retire), kept=kept)


async def recipients_by_unit(conn: asyncpg.Connection | asyncpg.Pool) -> dict[str, list[Recipient]]:
    """Active recipients of each unit that has any, oldest first."""
    rows = await conn.fetch(
        "SELECT id, unit, name, channel, address FROM focal_points WHERE active ORDER BY unit, id")
    found: dict[str, list[Recipient]] = {}
    for r in rows:
        found.setdefault(r["unit"], []).append(Recipient(r["id"], r["unit"], r["name"], r["channel"], r["address"]))
    return found
