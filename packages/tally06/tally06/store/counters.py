"""Adding to the read model's counters: the one home of the upserts that every writer of
counters shares (the projection of facts, the reconciliation of registry extracts).

Counts are deltas and may be negative (a claim the registry moves from pending to confirmed
leaves one counter for another). Rows are written sorted by key, so concurrent writers lock them
in the same order and never deadlock.
"""

from __future__ import annotations

from typing import Any

import asyncpg

Counts = list[int]  # [credited, claims]

_UNIT_DAILY = """
INSERT INTO unit_daily AS t (unit, day, metric, credited, claims)
SELECT u, d::date, m, c, k FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
    AS x(u, d, m, c, k) ORDER BY 1, 2, 3
ON CONFLICT (unit, day, metric) DO UPDATE
SET credited = t.credited + excluded.credited, claims = t.claims + excluded.claims, version = nextval('counter_version')
RETURNING unit, day, metric, credited, claims, version
"""
_UNIT_TOTAL = """
INSERT INTO unit_total AS t (unit, metric, credited, claims)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS x(u, m, c, k) ORDER BY 1, 2
ON CONFLICT (unit, metric) DO UPDATE
SET credited = t.credited + excluded.credited, claims = t.claims + excluded.claims, version = nextval('counter_version')
RETURNING unit, metric, credited, claims, version
"""
_OFFICER_DAILY = """
INSERT INTO officer_daily AS t (team, officer, day, metric, credited, claims)
SELECT t, o, d::date, m, c, k FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
    AS x(t, o, d, m, c, k) ORDER BY 1, 2, 3, 4
ON CONFLICT (team, officer, day, metric) DO UPDATE
SET credited = t.credited + excluded.credited, claims = t.claims + excluded.claims
"""
_OFFICER_TOTAL = """
INSERT INTO officer_total AS t (team, officer, metric, credited, claims)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
    AS x(t, o, m, c, k) ORDER BY 1, 2, 3
ON CONFLICT (team, officer, metric) DO UPDATE
SET credited = t.credited + excluded.credited, claims = t.claims + excluded.claims
"""


def _columns(rows: dict[tuple, Counts]) -> list[Any]:
    """Column arrays for unnest(); PostgreSQL sorts the rows by key before writing them."""
    if not rows:
        return []
    columns: list[Any] = [list(c) for c in zip(*rows.keys(), strict=True)]
    counts = list(rows.values())
    columns.append([c[0] for c in counts])
    columns.append([c[1] for c in counts])
    return columns


async def add_counts(
    conn: asyncpg.Connection,
    unit_daily: dict[tuple[str, str, str], Counts],
    unit_total: dict[tuple[str, str], Counts],
    officer_daily: dict[tuple[str, str, str, str], Counts],
    officer_total: dict[tuple[str, str, str], Counts],
) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    """Add the deltas (days as ISO strings); returns the unit_daily and unit_total rows changed."""
    daily = await conn.fetch(_UNIT_DAILY, *_columns(unit_daily)) if unit_daily else []
    total = await conn.fetch(_UNIT_TOTAL, *_columns(unit_total)) if unit_total else []
    if officer_daily:
        await conn.execute(_OFFICER_DAILY, *_columns(officer_daily))
    if officer_total:
        await conn.execute(_OFFICER_TOTAL, *_columns(officer_total))
    return daily, total


def add_to(table: dict, key: tuple, counts: Counts) -> None:
    row = table.get(key)
    if row is None:
        table[key] = [counts[0], counts[1]]
    else:
        row[0] += counts[0]
        row[1] += counts[1]
