"""Campaign and daily targets in PostgreSQL, versioned by the moment they take effect."""

from __future__ import annotations

import datetime as dt

import asyncpg

from tally06.domain.targets import CampaignTarget, DailyTarget


async def save_daily_targets(
    conn: asyncpg.Connection, targets: list[DailyTarget], *, source: str, valid_from: dt.date
) -> int:
    await conn.executemany(
        "INSERT INTO daily_targets (unit, metric, target, valid_from, source) VALUES ($1, $2, $3, $4, $5)",
        [(t.unit_code, t.metric, t.target, valid_from, source) for t in targets])
    return len(targets)


async def daily_targets_on(conn: asyncpg.Connection | asyncpg.Pool, day: dt.date) -> dict[tuple[str, str], int]:
    """The daily targets in force on a local day, by (unit, metric)."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (unit, metric) unit, metric, target FROM daily_targets "
        "WHERE valid_from <= $1 ORDER BY unit, metric, valid_from DESC, id DESC", day)
    return {(r["unit"], r["metric"]): r["target"] for r in rows}


async def save_campaign_targets(
    conn: asyncpg.Connection, targets: list[CampaignTarget], *, source: str, valid_from: dt.datetime
) -> int:
    """Add a new version of each target; earlier versions stay for reports of the past."""
    await conn.executemany(
        "INSERT INTO campaign_targets (unit, total, level1, level2, valid_from, source) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        [(t.unit_code, t.total, t.level1, t.level2, valid_from, source) for t in targets],
    )
    return len(targets)


async def campaign_targets_at(conn: asyncpg.Connection | asyncpg.Pool, at: dt.datetime) -> dict[str, CampaignTarget]:
    """The targets in force at ``at``, by unit code."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (t.unit) t.unit, u.name, t.total, t.level1, t.level2 "
        "FROM campaign_targets t JOIN units u ON u.code = t.unit "
        "WHERE t.valid_from <= $1 ORDER BY t.unit, t.valid_from DESC, t.id DESC", at)
    return {r["unit"]: CampaignTarget(r["unit"], r["name"], r["total"], r["level1"], r["level2"]) for r in rows}
