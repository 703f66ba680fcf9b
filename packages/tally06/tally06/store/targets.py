"""Campaign and daily targets in PostgreSQL, versioned by the moment they take effect."""

from __future__ import annotations

import datetime as dt

import asyncpg

from tally06.domain.targets import CampaignTarget, DailyTarget
from tally06.store.versioned import add_version, rows_in_force


async def save_daily_targets(
    conn: asyncpg.Connection, targets: list[DailyTarget], *, source: str, valid_from: dt.date
) -> int:
    return await add_version(conn, "daily_targets", ("unit", "metric", "target"),
                             [(t.unit_code, t.metric, t.target) for t in targets], valid_from=valid_from, source=source)


async def daily_targets_on(conn: asyncpg.Connection | asyncpg.Pool, day: dt.date) -> dict[tuple[str, str], int]:
    """The daily targets in force on a local day, by (unit, metric)."""
    rows = await rows_in_force(conn, "daily_targets", ("unit", "metric"), ("unit", "metric", "target"), day)
    return {(r["unit"], r["metric"]): r["target"] for r in rows}


async def save_campaign_targets(
    conn: asyncpg.Connection, targets: list[CampaignTarget], *, source: str, valid_from: dt.datetime
) -> int:
    """Add a new version of each target; earlier versions stay for reports of the past."""
    return await add_version(conn, "campaign_targets", ("unit", "total", "level1", "level2"),
                             [(t.unit_code, t.total, t.level1, t.level2) for t in targets],
                             valid_from=valid_from, source=source)


async def campaign_targets_at(conn: asyncpg.Connection | asyncpg.Pool, at: dt.datetime) -> dict[str, CampaignTarget]:
    """The targets in force at ``at``, by unit code."""
    rows = await rows_in_force(conn, "campaign_targets t JOIN units u ON u.code = t.unit", ("t.unit",),
                               ("t.unit", "u.name", "t.total", "t.level1", "t.level2"), at, prefix="t.")
    return {r["unit"]: CampaignTarget(r["unit"], r["name"], r["total"], r["level1"], r["level2"]) for r in rows}
