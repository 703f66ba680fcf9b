"""Folding facts into counter deltas: pure, so replay, rebuild and the live path share it.

A fact is applied at most once per projection: facts of one key arrive in sequence order, so
a fact whose sequence number is not above the key's position was applied before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

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


def fold(
    batches: Iterable[tuple[str, Iterable[Mapping[str, Any]]]],
    positions: Mapping[str, int],
    deltas: Deltas | None = None,
) -> tuple[Deltas, dict[str, int]]:
    """Fold ``(key, facts)`` batches given the positions before them.

    Returns the deltas and the new positions of the keys that moved.
    """
    deltas = deltas or Deltas()
    moved: dict[str, int] = {}
    # One dictionary update per fact; the hierarchy is expanded per group afterwards, which
    # is what makes a replay fast.
    by_officer: dict[tuple[str, str, str, str], list[int]] = {}
    lineage: dict[str, tuple[str, str, str]] = {}
    for key, facts in batches:
        position = moved.get(key, positions.get(key, 0))
        for fact in facts:
            seq = fact["seq"]
            if seq <= position:
                deltas.skipped += 1
                continue
            position = seq
            team = fact["team"]
            group = (team, fact["officer"], fact["day"], fact["metric"])
            counts = by_officer.get(group)
            if counts is None:
                counts = by_officer[group] = [0, 0]
                if team not in lineage:
                    lineage[team] = (fact["province"], fact["district"], fact["commune"])
            counts[0 if fact["credited"] else 1] += 1
            deltas.applied += 1
        if position > positions.get(key, 0):
            moved[key] = position
    by_team: dict[tuple[str, str, str], list[int]] = {}
    for (team, officer, day, metric), (credited, claims) in by_officer.items():
        _add(deltas.officer_daily, (team, officer, day, metric), credited, claims)
        _add(deltas.officer_total, (team, officer, metric), credited, claims)
        _add(by_team, (team, day, metric), credited, claims)
    for (team, day, metric), (credited, claims) in by_team.items():
        for unit in (*lineage[team], team):
            _add(deltas.unit_daily, (unit, day, metric), credited, claims)
            _add(deltas.unit_total, (unit, metric), credited, claims)
    return deltas, moved


def _add(table: dict, key: tuple, credited: int, claims: int) -> None:
    row = table.get(key)
    if row is None:
        table[key] = [credited, claims]
    else:
        row[0] += credited
        row[1] += claims
