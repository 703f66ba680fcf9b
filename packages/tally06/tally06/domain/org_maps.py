"""Maps over time: each load of the organisation is a new version with the day it takes effect.

Teams are what events name, so a team is the thread that carries work across maps: every team
code a deployment has ever had has a *holder* in each map, the team of that map that now does
its work (itself, unless the team was renamed). A unit's figures in a map are the sums of the
work of the teams it holds, whenever that work was done; so a merged commune's cumulative total
includes the work of the communes merged into it, and a report in an older map sums the same
facts through that map's holders, unchanged by later maps.

A new map says what became of the units of the map before it: a unit whose code is still in the
new map carries on (possibly renamed or moved); any other unit must be named in the mapping.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tally06.domain.exceptions import OrgError
from tally06.domain.org import Lineage, OrgRegistry, UnitKind

# The first map of a deployment is in force since before any campaign day.
BEGINNING = dt.date(2000, 1, 1)


class Change(enum.StrEnum):
    """What became of an old unit; documented in docs/org-maps.md."""

    MERGE = "merge"      # the old unit is part of the new one, with others
    SPLIT = "split"      # the old unit's teams went to several new units (one row per new unit)
    RENAME = "rename"    # the same unit under a new code
    MOVE = "move"        # the unit now sits elsewhere (under a new code)
    DISSOLVE = "dissolve"  # a level is gone; its units now sit directly under the new unit


@dataclass(frozen=True)
class MappingRow:
    """One row of a mapping file: ``old_code`` → ``new_code``; ``row`` is its line number."""

    row: int
    old_code: str
    new_code: str
    change: Change


@dataclass(frozen=True)
class OrgMap:
    """A version of the map: the units, the day it takes effect and the holder of every team."""

    id: int
    effective_from: dt.date
    registry: OrgRegistry
    # team code ever used → team of this map that holds its work; only codes that differ.
    holders: Mapping[str, str] = field(default_factory=dict)

    def holder(self, team: str) -> str:
        return self.holders.get(team, team)

    def lineage(self, team: str) -> Lineage | None:
        """The lineage in this map of a team code, including codes of earlier maps."""
        return self.registry.lineage(self.holder(team))


def in_force(maps: Sequence[OrgMap], day: dt.date) -> OrgMap | None:
    """The map in force on a day: the latest loaded of those that took effect by then."""
    candidates = [m for m in maps if m.effective_from <= day]
    return max(candidates, key=lambda m: (m.effective_from, m.id)) if candidates else None


def reorganise(old: OrgMap, new: OrgRegistry, mapping: Sequence[MappingRow]) -> dict[str, str]:
    """Check a new map against the one before it and the mapping between them; returns the new
    map's holders (only codes that differ). Raises ``OrgError`` naming every problem found."""
    problems: list[str] = []
    targets: dict[str, list[MappingRow]] = {}
    for row in mapping:
        if row.old_code in old.holders and row.old_code not in old.registry:
            problems.append(f"mapping row {row.row}: {row.old_code} is a code of an earlier map, whose work "
                            f"{old.holders[row.old_code]} holds now; map {old.holders[row.old_code]}")
        elif row.old_code not in old.registry:
            problems.append(f"mapping row {row.row}: old unit {row.old_code!r} is not in the map in force")
        if row.new_code not in new:
            problems.append(f"mapping row {row.row}: new unit {row.new_code!r} is not in the new map")
        targets.setdefault(row.old_code, []).append(row)
    for unit in old.registry.units():
        if unit.code not in new and unit.code not in targets and unit.kind is not UnitKind.TEAM:
            problems.append(f"unit {unit.code} ({unit.name}) is not in the new map and the mapping "
                            "does not say what became of it")
    holders: dict[str, str] = {}
    every_team = {t.code for t in old.registry.units(UnitKind.TEAM)} | set(old.holders)
    for team in sorted(every_team):
        held = _new_holder(old.holder(team), new, targets)
        if held is None:
            problems.append(f"team {team} has no team in the new map: keep its code, or map it to a "
                            "team with a 'rename' row")
        elif held != team and team in new:
            # Reusing a code would send the new team's events to the team holding the old one's.
            problems.append(f"team {team} of the new map reuses the code of an earlier team whose work "
                            f"{held} holds; give the new team another code")
        elif held != team:
            holders[team] = held
    for team, rows in targets.items():
        new_kinds = {new.get(r.new_code).kind for r in rows if r.new_code in new}  # type: ignore[union-attr]
        old_unit = old.registry.get(team)
        if old_unit is not None and old_unit.kind is UnitKind.TEAM and new_kinds - {UnitKind.TEAM}:
            problems.append(f"mapping row {rows[0].row}: team {team} must map to a team")
    problems.extend(_teams_follow_mapping(old, new, targets, holders))
    if problems:
        raise OrgError("; ".join(problems))
    return holders


def _teams_follow_mapping(old: OrgMap, new: OrgRegistry, targets: Mapping[str, Sequence[MappingRow]],
                          holders: Mapping[str, str]) -> list[str]:
    """A mapping row is a claim about where the old unit's work went: its teams must now sit
    under one of the units the mapping names, or the history would land somewhere else."""
    problems = []
    for code, rows in targets.items():
        unit = old.registry.get(code)
        if unit is None or unit.kind is UnitKind.TEAM:
            continue
        named = {r.new_code for r in rows}
        for team in old.registry.teams_under(code):
            held = holders.get(team, team)
            if held in new and not named.intersection(new.ancestors(held)):
                problems.append(f"mapping row {rows[0].row}: team {team} of {code} now sits under "
                                f"{new.ancestors(held)[1] if len(new.ancestors(held)) > 1 else '-'}, "
                                f"not under {', '.join(sorted(named))}")
    return problems


def _new_holder(team: str, new: OrgRegistry, targets: Mapping[str, Sequence[MappingRow]]) -> str | None:
    unit = new.get(team)
    if unit is not None and unit.kind is UnitKind.TEAM:
        return team
    rows = targets.get(team, ())
    if len(rows) == 1:
        target = new.get(rows[0].new_code)
        if target is not None and target.kind is UnitKind.TEAM:
            return target.code
    return None


def first_map(registry: OrgRegistry, effective_from: dt.date = BEGINNING) -> OrgMap:
    return OrgMap(0, effective_from, registry)
