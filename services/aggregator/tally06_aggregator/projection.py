"""The counters projection in PostgreSQL: counters and positions commit in one transaction.

Several workers may write at once (during a rebalance two may even hold the same key for a
moment): the position rows are locked first, so the second writer sees the first's positions
and skips what was applied. Rows are written in key order, so writers never deadlock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import asyncpg

from tally06_aggregator.fold import Deltas, fold

PROJECTION = "counters"

Batch = tuple[str, list[Mapping[str, Any]]]


@lru_cache(maxsize=4096)
def _date(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


def _columns(rows: dict[tuple, list[int]], date_at: int | None) -> list[list[Any]]:
    """Column arrays for unnest(), rows sorted by key."""
    keys = sorted(rows)
    width = len(keys[0]) if keys else 0
    columns: list[list[Any]] = [[k[i] if i != date_at else _date(k[i]) for k in keys] for i in range(width)]
    columns.append([rows[k][0] for k in keys])
    columns.append([rows[k][1] for k in keys])
    return columns


_UPSERT_UNIT_DAILY = """
INSERT INTO unit_daily AS t (unit, day, metric, credited, claims)
SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::bigint[], $5::bigint[])
ON CONFLICT (unit, day, metric) DO UPDATE
SET credited = t.credited + excluded.credited, claims = t.claims + excluded.claims, version = nextval('counter_version')
RETURNING unit, day, metric, credited, claims, version
"""
_UPSERT_UNIT_TOTAL = """
INSERT INTO unit_total AS t (unit, metric, credited, claims)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])
ON CONFLICT (unit, metric) DO UPDATE
SET credited = t.credited + excluded.credited, claims = t.claims + excluded.claims, version = nextval('counter_version')
RETURNING unit, metric, credited, claims, version
"""
_UPSERT_OFFICER_DAILY = """
INSERT INTO officer_daily AS t (team, officer, day, metric, credited, claims)
SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::bigint[], $6::bigint[])
ON CONFLICT (team, officer, day, metric) DO UPDATE
SET credited = t.credited + excluded.credited, claims = t.claims + excluded.claims
"""
_UPSERT_OFFICER_TOTAL = """
INSERT INTO officer_total AS t (team, officer, metric, credited, claims)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
ON CONFLICT (team, officer, metric) DO UPDATE
SET credited = t.credited + excluded.credited, claims = t.claims + excluded.claims
"""


async def lock_positions(conn: asyncpg.Connection, keys: list[str]) -> dict[str, int]:
    await conn.execute(
        "INSERT INTO projection_positions (projection, key) SELECT $1, k FROM unnest($2::text[]) k "
        "ORDER BY k ON CONFLICT DO NOTHING", PROJECTION, keys)
    rows = await conn.fetch(
        "SELECT key, position FROM projection_positions WHERE projection = $1 AND key = ANY($2::text[]) "
        "ORDER BY key FOR UPDATE", PROJECTION, keys)
    return {r["key"]: r["position"] for r in rows}


async def save_positions(conn: asyncpg.Connection, moved: Mapping[str, int]) -> None:
    keys = sorted(moved)
    await conn.execute(
        "UPDATE projection_positions p SET position = m.position, applied_at = now() "
        "FROM unnest($2::text[], $3::bigint[]) AS m(key, position) "
        "WHERE p.projection = $1 AND p.key = m.key", PROJECTION, keys, [moved[k] for k in keys])


async def write_deltas(conn: asyncpg.Connection, deltas: Deltas) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    """Add the deltas; returns the new unit_daily and unit_total rows that changed."""
    daily = await conn.fetch(_UPSERT_UNIT_DAILY, *_columns(deltas.unit_daily, date_at=1))
    total = await conn.fetch(_UPSERT_UNIT_TOTAL, *_columns(deltas.unit_total, date_at=None))
    await conn.execute(_UPSERT_OFFICER_DAILY, *_columns(deltas.officer_daily, date_at=2))
    await conn.execute(_UPSERT_OFFICER_TOTAL, *_columns(deltas.officer_total, date_at=None))
    return daily, total


class Projector:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def apply(self, batches: list[Batch]) -> tuple[Deltas, list[asyncpg.Record], list[asyncpg.Record]]:
        """Apply fact batches exactly once; returns the deltas and the changed rows."""
        keys = sorted({key for key, _ in batches})
        async with self.pool.acquire() as conn, conn.transaction():
            positions = await lock_positions(conn, keys)
            deltas, moved = fold(batches, positions)
            if not deltas:
                return deltas, [], []
            daily, total = await write_deltas(conn, deltas)
            await save_positions(conn, moved)
        return deltas, daily, total
