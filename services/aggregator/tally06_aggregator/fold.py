"""Folding facts into counter deltas: pure, so replay, rebuild and the live path share it.

A fact is applied at most once per projection: facts of one key arrive in sequence order, so
a fact whose sequence number is not above the key's position was applied before. A batch names
the key's fact just before it (``prev_seq``); when that is above the key's position, facts in
between were never seen (a consumer that read a new, shorter log from an old offset), and the
batch is held back: counting it would move the position past facts that would then be skipped
for ever. The relay publishes a lost log again from the start, so held-back facts come back.

Folding has two stages. ``tally`` counts facts by (team, officer, day, metric, credited) with
``Counter.update`` over an ``itemgetter`` map, so the per-fact work runs in C; ``expand`` then
spreads each of those groups over the hierarchy. Many facts share a group, so the expensive part
runs per group, not per fact. The hierarchy is the one of the map the read model is in (its
teams' paths, given by the projection), not the lineage the fact was published with: a fact
published before a reorganisation and counted after it lands in the unit that now holds its
team. The fact's own lineage is used only for a team the map does not know.

A worker folds messages as they arrive (``Step``) and drops their rows at once: keeping a
million decoded rows alive until the write made the garbage collector walk them again and
again, which cost more than the counting. The step assumes the read model's positions are the
ones this worker expects; the projection checks that under its lock and folds the raw messages
again in the rare case they are not (another worker wrote the keys during a rebalance).
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from tally06.contract.events import F, FactRows
from tally06.store.counters import Counts, add_to

_GROUP = itemgetter(F.TEAM, F.OFFICER, F.DAY, F.METRIC, F.CREDITED)
_SEQ = itemgetter(F.SEQ)
_TEAM = itemgetter(F.TEAM)


@dataclass
class Tally:
    # (team, officer, day, metric, credited) -> facts
    groups: Counter[tuple[str, str, str, str, bool]] = field(default_factory=Counter)
    # team -> the units above it in the lineage its facts were published with
    lineage: dict[str, tuple[str, ...]] = field(default_factory=dict)
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
    count, lineage = result.groups.update, result.lineage
    moved: dict[str, int] = {}
    applied = skipped = 0
    for key, facts, prev_seq in batches:
        if not facts:
            continue
        position = moved.get(key, positions.get(key, 0))
        if prev_seq is not None and prev_seq > position:
            result.gaps.append((key, prev_seq, position))
            skipped += len(facts)
            continue
        if facts[0][F.SEQ] <= position:
            # Facts of a batch are in sequence order: what was applied is a prefix.
            first_new = bisect_right(facts, position, key=_SEQ)
            skipped += first_new
            facts = facts[first_new:]
            if not facts:
                continue
        count(map(_GROUP, facts))
        applied += len(facts)
        for team in set(map(_TEAM, facts)).difference(lineage):
            fact = next(f for f in facts if f[F.TEAM] == team)
            lineage[team] = tuple(fact[F.LINEAGE][:-1])
        moved[key] = facts[-1][F.SEQ]
    result.applied += applied
    result.skipped += skipped
    return result, moved


def expand(counted: Tally, paths: Mapping[str, Sequence[str]] | None = None) -> Deltas:
    """Spread the tally over officers and every unit on each team's path: ``paths`` maps a team
    code to the codes from its root down to the team that holds its work in the read model's
    map."""
    paths = paths or {}
    deltas = Deltas(applied=counted.applied, skipped=counted.skipped, gaps=counted.gaps)
    officer_daily = deltas.officer_daily
    for (team, officer, day, metric, credited), facts in counted.groups.items():
        counts = officer_daily.get((team, officer, day, metric))
        if counts is None:
            counts = officer_daily[(team, officer, day, metric)] = [0, 0]
        counts[0 if credited else 1] += facts
    by_team: dict[tuple[str, str, str], Counts] = {}
    for (team, officer, day, metric), counts in officer_daily.items():
        add_to(deltas.officer_total, (team, officer, metric), counts)
        add_to(by_team, (team, day, metric), counts)
    for (team, day, metric), counts in by_team.items():
        path = paths.get(team) or (*counted.lineage[team], team)
        for unit in path:
            add_to(deltas.unit_daily, (unit, day, metric), counts)
            add_to(deltas.unit_total, (unit, metric), counts)
    return deltas


def fold(batches: Iterable[FactRows], positions: Mapping[str, int],
         paths: Mapping[str, Sequence[str]] | None = None) -> tuple[Deltas, dict[str, int]]:
    """Tally and expand in one step; returns the deltas and the keys' new positions."""
    counted, moved = tally(batches, positions)
    return expand(counted, paths), moved


@dataclass
class Step:
    """Messages folded as they arrive, against the positions the worker expects the read model
    to hold when the step is written (``start``); ``raw`` keeps the messages (the bytes the
    consumer holds anyway until they are acknowledged) to fold again if it holds others."""

    counted: Tally = field(default_factory=Tally)
    start: dict[str, int] = field(default_factory=dict)
    end: dict[str, int] = field(default_factory=dict)
    raw: list[bytes] = field(default_factory=list)
    facts: int = 0

    def add(self, batches: list[FactRows], raw: Iterable[bytes], expected: Mapping[str, int]) -> None:
        for batch in batches:
            if batch.key not in self.start:
                self.start[batch.key] = expected.get(batch.key, 0)
        before = {key: self.end.get(key, self.start[key]) for key in {batch.key for batch in batches}}
        self.counted, moved = tally(batches, before, self.counted)
        self.end.update(moved)
        self.raw.extend(raw)
        self.facts += sum(len(batch.rows) for batch in batches)
