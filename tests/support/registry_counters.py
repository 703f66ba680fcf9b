"""Registry counters written straight into the read model, as the reconciler would write them:
per team, officer and day, summed up the demo map's chain of codes (TH-03-C01-T1 → TH-03-C01 →
TH-03 → TH). The tests that use them check what the read side makes of given counters."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping

import asyncpg

# (team, day) → {metric: count}
TeamCounters = Mapping[tuple[str, dt.date], Mapping[str, int]]


def chain(team: str) -> list[str]:
    """The team and every unit above it in the demo map, by the shape of its code."""
    parts = team.split("-")
    return ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]


def unit_sums(counters: TeamCounters) -> dict[tuple[str, dt.date, str], int]:
    sums: dict[tuple[str, dt.date, str], int] = defaultdict(int)
    for (team, day), metrics in counters.items():
        for metric, n in metrics.items():
            for unit in chain(team):
                sums[(unit, day, metric)] += n
    return dict(sums)


async def write_counters(db: asyncpg.Connection, counters: TeamCounters, officer: str = "CA-TEST-1") -> None:
    """Unit rows for every code given and those above it; officer rows for the teams among them
    (unclaimed activations are counted where the citizen lives: a commune or village, no team)."""
    daily = unit_sums(counters)
    teams = {key: metrics for key, metrics in counters.items() if len(key[0].split("-")) == 4}
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for (unit, _, metric), n in daily.items():
        totals[(unit, metric)] += n
    async with db.transaction():
        await db.executemany("INSERT INTO unit_daily (unit, day, metric, credited) VALUES ($1, $2, $3, $4)",
                             [(u, d, m, n) for (u, d, m), n in daily.items()])
        await db.executemany("INSERT INTO unit_total (unit, metric, credited) VALUES ($1, $2, $3)",
                             [(u, m, n) for (u, m), n in totals.items()])
        await db.executemany(
            "INSERT INTO officer_daily (team, officer, day, metric, credited) VALUES ($1, $2, $3, $4, $5)",
            [(t, officer, d, m, n) for (t, d), metrics in teams.items() for m, n in metrics.items()])
        per_officer: dict[tuple[str, str], int] = defaultdict(int)
        for (team, _), metrics in teams.items():
            for metric, n in metrics.items():
                per_officer[(team, metric)] += n
        await db.executemany("INSERT INTO officer_total (team, officer, metric, credited) VALUES ($1, $2, $3, $4)",
                             [(t, officer, m, n) for (t, m), n in per_officer.items()])
