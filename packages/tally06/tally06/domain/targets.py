"""Targets: the campaign targets of plan 70 and the daily targets, set at any level of a map.

A target may be given to any unit (a province, a district, a commune, a village, a team). A
unit's target is its own when it has one, else the sum of its children's, recursively, in the
map in force; a unit with nothing given at or below it has no target (which is not a target of
0). So plan 70's Appendix I, which gives districts, yields the province's target as their sum,
and a two-tier province whose communes were given targets sums them the same way.

A daily target names one metric (``activated_l2``) or a family of them (``activated``), because
communes usually set "activations per day" whatever the level.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from tally06.domain.metrics import metrics_of
from tally06.domain.org import OrgRegistry

V = TypeVar("V")


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


def roll_up(org: OrgRegistry, own: Mapping[str, V], add: Callable[[V, V], V]) -> dict[str, V]:
    """Every unit's value in ``org``: its own when it has one, else its children's added up.

    Units with no value at or below them are absent. Values of codes that are not in ``org``
    (units of another map) are ignored.
    """
    result: dict[str, V] = {}
    # Deepest first, so every child is done before its parent.
    for unit in sorted(org.units(), key=lambda u: len(org.ancestors(u.code)), reverse=True):
        if unit.code in own:
            result[unit.code] = own[unit.code]
            continue
        values = [result[c.code] for c in org.children(unit.code) if c.code in result]
        if values:
            total = values[0]
            for value in values[1:]:
                total = add(total, value)
            result[unit.code] = total
    return result


def rollup_campaign_targets(org: OrgRegistry, given: Mapping[str, CampaignTarget]) -> dict[str, CampaignTarget]:
    """Every unit's campaign target in ``org``: its own if given, else the sum of its children's."""
    def add(a: CampaignTarget, b: CampaignTarget) -> CampaignTarget:
        return CampaignTarget(a.unit_code, a.unit_name, a.total + b.total, a.level1 + b.level1, a.level2 + b.level2)

    summed = roll_up(org, given, add)
    named = {}
    for code, target in summed.items():
        unit = org.get(code)
        named[code] = CampaignTarget(code, unit.name if unit else target.unit_name, target.total,
                                     target.level1, target.level2)
    return named


def rollup_daily_targets(org: OrgRegistry, explicit: Mapping[tuple[str, str], int]) -> dict[str, dict[str, int]]:
    """Every unit's daily targets, by target metric, from those given to units of any level.

    Per metric, a unit's own target wins over the sum of its children's (a commune sometimes
    sets one figure for the commune, a district one for the district); a unit without its own
    target for a metric is judged by the sum of its children's. Units with none are absent.
    """
    given: dict[str, dict[str, int]] = {}
    for (unit_code, metric), target in explicit.items():
        given.setdefault(unit_code, {})[metric] = target
    result: dict[str, dict[str, int]] = {}
    for unit in sorted(org.units(), key=lambda u: len(org.ancestors(u.code)), reverse=True):
        summed: dict[str, int] = {}
        for child in org.children(unit.code):
            for metric, target in result.get(child.code, {}).items():
                summed[metric] = summed.get(metric, 0) + target
        result[unit.code] = {**summed, **given.get(unit.code, {})}
    return {code: targets for code, targets in result.items() if targets}


def done_by_target_metric(counts: Mapping[str, int], target_metrics: Iterable[str]) -> dict[str, int]:
    """What a unit did per target metric (a family sums its metrics), from counts per metric."""
    return {m: sum(counts.get(metric.value, 0) for metric in metrics_of(m)) for m in target_metrics}
