"""Folding facts into counter deltas: pure, so replay, rebuild and the live path share it.

A fact is applied at most once per projection: facts of one key arrive in sequence order, so
a fact whose sequence number is not above the key's position was applied before. A batch names
the key's fact just before it (``prev_seq``); when that is above the key's position, facts in
between were never seen (a consumer that read a new, shorter log from an old offset), and the
batch is held back: counting it would move the position past facts that would then be skipped
for ever. The relay publishes a lost log again from the start, so held-back facts come back.

Folding has two stages. ``tally`` does one dictionary update per fact, by (team, officer,
day, metric); ``expand`` then spreads each of those groups over the hierarchy. Many facts
share a group, so the expensive part runs per group, not per fact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tally06.events import F, FactRows

Counts = list[int]  # [credited, claims]


@dataclass
class Tally:
    by_officer: dict[tuple[str, str, str, str], Counts] = field(default_factory=dict)
    lineage: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    applied: int = 0
    skipped: int = 0
    gaps: list[tuple[str, int, int]] = field(default_factory=list)  # (key, prev_seq, position)


@dataclass
class Deltas:
    """Counter increments by read-model row; day is an ISO date string."""

    unit_daily: dict[tuple[str, str, str], Counts] = field(default_factory=dict)
    unit_total: dict[tuple[str, str], Counts] = field(default_factory=dict)
    officer_daily: dict[tuple[str, str, str, str], Counts] = field(default_factory=dict)
    officer_total: dict[tuple[str, str, str], Counts] = field(default_factory=dict)
    applied: int = 0
    skipped: int = 0
    gaps: list[tuple[str, int, int]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.applied > 0


def tally(
    batches: Iterable[FactRows],
    positions: Mapping[str, int],
    into: Tally | None = None,
) -> tuple[Tally, dict[str, int]]:
    """Count ``(key, fact rows, prev_seq)`` batches given the positions before them (rows
    indexed by ``F``); returns the tally and the new positions of the keys that moved."""
    result = into or Tally()
    by_officer, lineage = result.by_officer, result.lineage
    moved: dict[str, int] = {}
    seq_at, team_at, officer_at, day_at, metric_at, credited_at = (
        F.SEQ, F.TEAM, F.OFFICER, F.DAY, F.METRIC, F.CREDITED)
    applied = skipped = 0
    for key, facts, prev_seq in batches:
        position = moved.get(key, positions.get(key, 0))
        if prev_seq is not None and prev_seq > position:
            result.gaps.append((key, prev_seq, position))
            skipped += len(facts)
            continue
        for fact in facts:
            seq = fact[seq_at]
            if seq <= position:
                skipped += 1
                continue
            position = seq
            team = fact[team_at]
            group = (team, fact[officer_at], fact[day_at], fact[metric_at])
            counts = by_officer.get(group)
            if counts is None:
                counts = by_officer[group] = [0, 0]
                if team not in lineage:
                    lineage[team] = (fact[F.PROVINCE], fact[F.DISTRICT], fact[F.COMMUNE])
            counts[0 if fact[credited_at] else 1] += 1
            applied += 1
        if position > positions.get(key, 0):
            moved[key] = position
    result.applied += applied
    result.skipped += skipped
    return result, moved


def expand(counted: Tally) -> Deltas:
    """Spread the tally over officers, teams, communes, districts and the province."""
    deltas = Deltas(applied=counted.applied, skipped=counted.skipped, gaps=counted.gaps)
    by_team: dict[tuple[str, str, str], Counts] = {}
    for (team, officer, day, metric), counts in counted.by_officer.items():
        deltas.officer_daily[(team, officer, day, metric)] = counts
        _add(deltas.officer_total, (team, officer, metric), counts)
        _add(by_team, (team, day, metric), counts)
    for (team, day, metric), counts in by_team.items():
        for unit in (*counted.lineage[team], team):
            _add(deltas.unit_daily, (unit, day, metric), counts)
            _add(deltas.unit_total, (unit, metric), counts)
    return deltas


def fold(batches: Iterable[FactRows], positions: Mapping[str, int]) -> tuple[Deltas, dict[str, int]]:
    """Tally and expand in one step; returns the deltas and the keys' new positions."""
    counted, moved = tally(batches, positions)
    return expand(counted), moved


def _add(table: dict, key: tuple, counts: Counts) -> None:
    row = table.get(key)
    if row is None:
        table[key] = [counts[0], counts[1]]
    else:
        row[0] += counts[0]
        row[1] += counts[1]
