"""Which targets a unit is judged by, summed up the hierarchy. Pure.

The board is about activations: plan 70 counts only accounts actually activated, level 1 and
level 2 together, so "today's target" is a unit's daily activation target.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from tally06.domain.metrics import ACTIVATED, ACTIVATED_FAMILY
from tally06.domain.targets import CampaignTarget
from tally06_wallboard.hierarchy import Tree, roll_up


class Goal(NamedTuple):
    """A campaign target: total accounts and its split by level."""

    total: int
    level1: int
    level2: int

    def __add__(self, other: object) -> Goal:
        if not isinstance(other, Goal):
            return NotImplemented
        return Goal(self.total + other.total, self.level1 + other.level1, self.level2 + other.level2)


def own_activation_targets(daily: Mapping[tuple[str, str], int]) -> dict[str, int]:
    """Each unit's own daily activation target from ``daily_targets_on`` rows.

    A target for the family ("activated") already covers both levels; only without it do
    per-level targets add up, so a unit that has both is not counted twice.
    """
    family: dict[str, int] = {}
    per_level: dict[str, int] = {}
    for (unit, metric), target in daily.items():
        if metric == ACTIVATED_FAMILY:
            family[unit] = target
        elif metric in ACTIVATED:
            per_level[unit] = per_level.get(unit, 0) + target
    return {**per_level, **family}


def daily_activation_targets(tree: Tree, daily: Mapping[tuple[str, str], int]) -> dict[str, int]:
    """Today's activation target of every unit that has one, its own or its children's sum."""
    return roll_up(tree, own_activation_targets(daily), lambda a, b: a + b)


def campaign_goals(tree: Tree, targets: Mapping[str, CampaignTarget]) -> dict[str, Goal]:
    """Campaign targets of every unit at any level: its own, else the sum of its children's
    (Appendix I gives the 2023 districts, and the province is the sum of its rows, not the
    misprinted totals row; a two-tier province's communes carry their own)."""
    own = {code: Goal(t.total, t.level1, t.level2) for code, t in targets.items()}
    return roll_up(tree, own, lambda a, b: a + b)
