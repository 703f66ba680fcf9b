"""Folding facts into counter deltas: pure, so replay, rebuild and the live path share it.

A fact is applied at most once per projection: facts of one key arrive in sequence order, so
a fact whose sequence number is not above the key's position was applied before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# (province, district, commune, team, officer, day, metric) -> [credited, claims]
_Group = tuple[str, str, str, str, str, str, str]


@dataclass
class Deltas:
    """Counter increments by read-model row; day is an ISO date string."""

    unit_daily: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)
    unit_total: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    officer_daily: dict[tuple[str, str, str, str], list[int]] = field(default_factory=dict)
    officer_total: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)
    applied: int = 0
    skipped: int = 0

    def __bool__(self) -> bool:
        return self.applied > 0


def _add(table: dict, key: tuple, credited: int, claims: int) -> None:
    row = table.get(key)
    if row is None:
        table[key] = [credited, claims]
    else:
        row[0] += credited
        row[1] += claims


def fold(
    batches: Iterable[tuple[str, list[Mapping[str, Any]]]],
    positions: Mapping[str, int],
    deltas: Deltas | None = None,
) -> tuple[Deltas, dict[str, int]]:
    """Fold ``(key, facts)`` batches given the positions before them.

    Returns the deltas and the new positions of the keys that moved.
    """
    deltas = deltas or Deltas()
    moved: dict[str, int] = {}
    groups: dict[_Group, list[int]] = defaultdict(lambda: [0, 0])
    for key, facts in batches:
        position = moved.get(key, positions.get(key, 0))
        for fact in facts:
            seq = fact["seq"]
            if seq <= position:
                deltas.skipped += 1
                continue
            position = seq
            counts = groups[(fact["province"], fact["district"], fact["commune"], fact["team"],
                             fact["officer"], fact["day"], fact["metric"])]
            counts[0 if fact["credited"] else 1] += 1
            deltas.applied += 1
        if position > positions.get(key, 0):
            moved[key] = position
    # Expanding per group, not per fact, keeps the hot loop to one dictionary update.
    for (province, district, commune, team, officer, day, metric), (credited, claims) in groups.items():
        for unit in (province, district, commune, team):
            _add(deltas.unit_daily, (unit, day, metric), credited, claims)
            _add(deltas.unit_total, (unit, metric), credited, claims)
        _add(deltas.officer_daily, (team, officer, day, metric), credited, claims)
        _add(deltas.officer_total, (team, officer, metric), credited, claims)
    return deltas, moved
