"""Queries on the aggregator's read model (``unit_daily``, ``unit_total``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TypeAlias

import asyncpg

from tally06.domain.confirmation import confirmation_metrics
from tally06.domain.metrics import ACTIVATED
from tally06_wallboard.figures import UnitCounts, counts_from_rows
from tally06_wallboard.trend import whole_days_before

Db: TypeAlias = asyncpg.Pool | asyncpg.Connection


async def unit_counts(db: Db, units: Sequence[str], today: dt.date, run_rate_days: int) -> dict[str, UnitCounts]:
    """Today's counters, the run-rate window and cumulative counters of the given units."""
    first, _ = whole_days_before(today, run_rate_days)
    daily = await db.fetch(
        "SELECT unit, day, metric, credited, claims FROM unit_daily "
        "WHERE unit = ANY($1::text[]) AND day BETWEEN $2 AND $3", list(units), first, today)
    totals = await db.fetch(
        "SELECT unit, metric, credited, claims FROM unit_total WHERE unit = ANY($1::text[])", list(units))
    return counts_from_rows(daily, totals, today, run_rate_days)


async def daily_series(db: Db, unit: str, first: dt.date, last: dt.date) -> dict[dt.date, tuple[int, int]]:
    """(activations, duplicate claims of every metric) per day that has any row."""
    rows = await db.fetch(
        "SELECT day, coalesce(sum(credited) FILTER (WHERE metric = ANY($4::text[])), 0) AS activated, "
        "sum(claims) AS claims FROM unit_daily WHERE unit = $1 AND day BETWEEN $2 AND $3 GROUP BY day",
        unit, first, last, list(ACTIVATED))
    return {r["day"]: (int(r["activated"]), int(r["claims"])) for r in rows}


async def confirmation_rows(db: Db, unit: str, first: dt.date | None, last: dt.date) -> list[asyncpg.Record]:
    """Claims and registry counters of a unit per day (``day``, ``metric``, ``credited``), up to ``last``."""
    return await db.fetch(
        "SELECT day, metric, credited FROM unit_daily WHERE unit = $1 AND metric = ANY($2::text[]) "
        "AND ($3::date IS NULL OR day >= $3) AND day <= $4", unit, list(confirmation_metrics()), first, last)
