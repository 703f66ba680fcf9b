"""Daily targets per team: what a commune hands each team for every working day.

A target names one metric (``activated_l2``) or a family of them (``activated`` counts level 1
and level 2 together), because communes usually set "activations per day" whatever the level.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import asyncpg

from tally06.events import Metric
from tally06.org import OrgRegistry, UnitKind
from tally06.targets_import import RowError

FAMILIES: dict[str, tuple[Metric, ...]] = {
    "activated": (Metric.ACTIVATED_L1, Metric.ACTIVATED_L2),
    "collected": (Metric.COLLECTED_L1, Metric.COLLECTED_L2),
    "approved": (Metric.APPROVED_L1, Metric.APPROVED_L2),
}
CSV_COLUMNS = ("unit_code", "metric", "target")


def metrics_of(target_metric: str) -> tuple[Metric, ...]:
    """The counters a target is measured against."""
    if target_metric in FAMILIES:
        return FAMILIES[target_metric]
    return (Metric(target_metric),)


@dataclass(frozen=True)
class DailyTarget:
    unit_code: str
    metric: str
    target: int


def parse_daily_targets_csv(text: str, org: OrgRegistry) -> tuple[list[DailyTarget], list[RowError]]:
    """Rows of ``unit_code,metric,target``; bad rows are reported, never raised."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        return [], [RowError(1, "header", f"must be {','.join(CSV_COLUMNS)}")]
    known = {m.value for m in Metric} | set(FAMILIES)
    targets: list[DailyTarget] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in enumerate(reader, start=2):
        unit, metric, value = ((row.get(column) or "").strip() for column in CSV_COLUMNS)
        found = org.get(unit)
        if found is None or found.kind not in (UnitKind.TEAM, UnitKind.COMMUNE):
            errors.append(RowError(line, "unit_code", f"{unit!r} is not a known team or commune"))
            continue
        if metric not in known:
            errors.append(RowError(line, "metric", f"{metric!r} is not a metric or family ({', '.join(sorted(FAMILIES))})"))
            continue
        if not value.isdigit():
            errors.append(RowError(line, "target", "must be a whole number of citizens, 0 or more"))
            continue
        if (unit, metric) in seen:
            errors.append(RowError(line, "unit_code", f"{unit} {metric} is already given on row {seen[(unit, metric)]}"))
            continue
        seen[(unit, metric)] = line
        targets.append(DailyTarget(unit, metric, int(value)))
    return targets, errors


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


def rollup_daily_targets(org: OrgRegistry, explicit: Mapping[tuple[str, str], int]) -> dict[str, dict[str, int]]:
    """Every unit's daily targets, by target metric, from those given to teams and communes.

    A commune's own target for a metric wins over the sum of its teams' (communes sometimes set
    one figure for the commune); above communes targets are sums. Units with none are absent.
    """
    given: dict[str, dict[str, int]] = {}
    for (unit, metric), target in explicit.items():
        given.setdefault(unit, {})[metric] = target
    result: dict[str, dict[str, int]] = {}

    def of(code: str) -> dict[str, int]:
        if code in result:
            return result[code]
        unit = org.get(code)
        own = dict(given.get(code, {})) if unit is not None and unit.kind in (UnitKind.TEAM, UnitKind.COMMUNE) else {}
        summed: dict[str, int] = {}
        for child in org.children(code):
            for metric, target in of(child.code).items():
                summed[metric] = summed.get(metric, 0) + target
        result[code] = {**summed, **own}
        return result[code]

    for unit in org.units():
        of(unit.code)
    return {code: targets for code, targets in result.items() if targets}


def done_by_target_metric(counts: Mapping[str, int], target_metrics: Iterable[str]) -> dict[str, int]:
    """What a unit did per target metric (a family sums its metrics), from counts per metric."""
    return {m: sum(counts.get(metric.value, 0) for metric in metrics_of(m)) for m in target_metrics}
