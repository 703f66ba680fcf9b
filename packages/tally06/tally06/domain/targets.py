"""Targets: the campaign targets of plan 70 per unit and the daily targets of teams.

A daily target names one metric (``activated_l2``) or a family of them (``activated``), because
communes usually set "activations per day" whatever the level.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tally06.domain.metrics import metrics_of
from tally06.domain.org import OrgRegistry, UnitKind


@dataclass(frozen=True)
class CampaignTarget:
    """One unit's activation target, split by account level as the plan hands it down."""

    unit_code: str
    unit_name: str
    total: int
    level1: int
    level2: int


@dataclass(frozen=True)
class DailyTarget:
    unit_code: str
    metric: str
    target: int


def rollup_daily_targets(org: OrgRegistry, explicit: Mapping[tuple[str, str], int]) -> dict[str, dict[str, int]]:
    """Every unit's daily targets, by target metric, from those given to teams and communes.

    A commune's own target for a metric wins over the sum of its teams' (communes sometimes set
    one figure for the commune); above communes targets are sums. Units with none are absent.
    """
    given: dict[str, dict[str, int]] = {}
    for (unit_code, metric), target in explicit.items():
        given.setdefault(unit_code, {})[metric] = target
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
