"""Rankings and how they moved since the start of the local day. Pure.

Units of a level are ranked by completion of their campaign target when every one of them has
a target (its own or the sum of its children's: districts of Appendix I in the 2023 map, the
communes of a two-tier province when their targets are loaded, provinces under a country), else
by cumulative activations (teams, and any level whose targets are not all set). Equal scores
share a rank ("1, 2, 2, 4"): units that have done the same are not told apart by their codes.

The start-of-day ranking is computed, not stored: cumulative activations minus today's give the
standing at 00:00 local time, so a restarted service still knows who climbed today.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from tally06_wallboard.targets import Goal

Basis = Literal["completion_pct", "activated"]


@dataclass(frozen=True)
class Standing:
    """What a unit's rank is computed from."""

    code: str
    activated_total: int
    activated_today: int
    target: int | None


@dataclass(frozen=True)
class Place:
    rank: int
    rank_start_of_day: int
    # Positive when the unit climbed since 00:00, negative when others overtook it.
    rank_change: int


def competition_ranks(scores: Mapping[str, Fraction | int]) -> dict[str, int]:
    """1 for the highest score; ties share the rank and the next rank skips ("1, 2, 2, 4")."""
    ordered = sorted(scores.values(), reverse=True)
    first_place: dict[Fraction | int, int] = {}
    for position, score in enumerate(ordered, start=1):
        first_place.setdefault(score, position)
    return {code: first_place[score] for code, score in scores.items()}


def basis_for(standings: Sequence[Standing]) -> Basis:
    if standings and all(s.target for s in standings):
        return "completion_pct"
    return "activated"


def _score(done: int, target: int | None, basis: Basis) -> Fraction | int:
    # Exact fractions: two units shown as 7.64 % each may still differ, and the rank says so.
    return Fraction(done, target) if basis == "completion_pct" and target else done


def rank_units(standings: Sequence[Standing]) -> tuple[Basis, dict[str, Place]]:
    basis = basis_for(standings)
    now = {s.code: _score(s.activated_total, s.target, basis) for s in standings}
    start = {s.code: _score(s.activated_total - s.activated_today, s.target, basis) for s in standings}
    ranks_now, ranks_start = competition_ranks(now), competition_ranks(start)
    return basis, {
        code: Place(ranks_now[code], ranks_start[code], ranks_start[code] - ranks_now[code]) for code in now
    }


def standing(code: str, activated_total: int, activated_today: int, goal: Goal | None) -> Standing:
    return Standing(code, activated_total, activated_today, goal.total if goal else None)
