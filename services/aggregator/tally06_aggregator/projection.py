"""The counters projection in PostgreSQL: counters and positions commit in one transaction.

Several workers may write at once (during a rebalance two may even hold the same key for a
moment): the position rows are locked first, so the second writer sees the first's positions
and skips what was applied. Rows are written in key order (sorted by PostgreSQL), so writers never deadlock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg

from tally06.events import FactRows
from tally06_aggregator.fold import Deltas, fold

PROJECTION = "counters"

Batch = FactRows


def _columns(rows: dict[tuple, list[int]]) -> list[Any]:
    """Column arrays for unnest(); PostgreSQL sorts the rows by key before writing them."""
    if not rows:
        return []
    columns: list[Any] = [list(c) for c in zip(*rows.keys(), strict=True)]
    counts = list(rows.values())
    columns.append([c[0] for c in counts])
    columns.append([c[1] for c in counts])
    return columns


_UPSERT_UNIT_DAILY = """
INSERT INTO unit_daily AS t (unit, day, metric, credited, claims)
SELECT u, d::date, m, c, k FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
    AS x(u, d, m, c, k) ORDER BY 1, 2, 3
ON CONFLICT (unit, day, metric) DO UPDATE
SET credited = t.credited + excluded.credited, claims = t.claims + excluded.claims, version = nextval('counter_version')
RETURNING unit, day, metric, credited, claims, version
"""
_UPSERT_UNIT_TOTAL = """
INSERT INTO unit_total AS t (unit, metric, credited, claims)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS x(u, m, c, k) ORDER BY 1, 2
ON CONFLICT (unit, metric) DO UPDATE
SET credited = t.credited + excluded.credited, claims = t.claims + excluded.claims, version = nextval('counter_version')
RETURNING unit, metric, credited, claims, version
"""
_UPSERT_OFFICER_DAILY = """
INSERT INTO officer_daily AS t (team, officer, day, metric, credited, claims)
SELECT t, o, d::date, m, c, k FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
    AS x(t, o, d, m, c, k) ORDER BY 1, 2, 3, 4
ON CONFLICT (team, officer, day, metric) DO UPDATE
SET credited = t.credited + excluded.credited, claims = t.claims + excluded.claims
"""
_UPSERT_OFFICER_TOTAL = """
INSERT INTO officer_total AS t (team, officer, metric, credited, claims)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
    AS x(t, o, m, c, k) ORDER BY 1, 2, 3
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
    daily = await conn.fetch(_UPSERT_UNIT_DAILY, *_columns(deltas.unit_daily))
    total = await conn.fetch(_UPSERT_UNIT_TOTAL, *_columns(deltas.unit_total))
    await conn.execute(_UPSERT_OFFICER_DAILY, *_columns(deltas.officer_daily))
    await conn.execute(_UPSERT_OFFICER_TOTAL, *_columns(deltas.officer_total))
    return daily, total


class Projector:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def apply(self, batches: list[Batch]) -> tuple[Deltas, list[asyncpg.Record], list[asyncpg.Record]]:
        """Apply fact batches exactly once; returns the deltas and the changed rows."""
        keys = sorted({batch.key for batch in batches})
        async with self.pool.acquire() as conn, conn.transaction():
            positions = await lock_positions(conn, keys)
            deltas, moved = fold(batches, positions)
            if not deltas:
                return deltas, [], []
            daily, total = await write_deltas(conn, deltas)
            await save_positions(conn, moved)
        return deltas, daily, total
