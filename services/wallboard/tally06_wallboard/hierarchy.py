"""The org tree as the read API walks it, and figures summed up the hierarchy. Pure.

``OrgRegistry.children`` scans every unit; a board asks for children of many units per second,
so the tree is indexed once per registry load.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from tally06.domain.org import OrgRegistry, Unit, UnitKind
from tally06.domain.org_maps import OrgMap

V = TypeVar("V")


@dataclass(frozen=True)
class Tree:
    org: OrgRegistry
    units: Mapping[str, Unit]
    children: Mapping[str, tuple[str, ...]]
    # Every code, children before their parents: the order sums up the hierarchy are made in.
    bottom_up: tuple[str, ...]
    # The map version the tree is of (None for a tree made from a bare registry).
    map_id: int | None = None
    effective_from: dt.date | None = None

    @classmethod
    def of_map(cls, org_map: OrgMap | None) -> Tree:
        """The tree of a map version; an empty tree before any map is loaded."""
        if org_map is None:
            return cls.of(OrgRegistry(()))
        return cls.of(org_map.registry, org_map.id, org_map.effective_from)

    @classmethod
    def of(cls, org: OrgRegistry, map_id: int | None = None, effective_from: dt.date | None = None) -> Tree:
        units = {u.code: u for u in org.units()}
        kids: dict[str, list[str]] = {}
        for unit in units.values():
            if unit.parent_code:
                kids.setdefault(unit.parent_code, []).append(unit.code)
        depth = {code: len(_chain(units, code)) for code in units}
        return cls(
            org,
            units,
            {parent: tuple(sorted(codes)) for parent, codes in kids.items()},
            tuple(sorted(units, key=lambda c: (-depth[c], c))),
            map_id,
            effective_from,
        )

    def get(self, code: str) -> Unit | None:
        return self.units.get(code)

    def kids(self, code: str) -> tuple[str, ...]:
        return self.children.get(code, ())

    def path(self, code: str) -> list[Unit]:
        """From the unit's root down to the unit itself, for breadcrumbs."""
        return _chain(self.units, code)[::-1]

    def subtree(self, code: str) -> list[str]:
        """The unit and everything below it."""
        found, todo = [], [code]
        while todo:
            current = todo.pop()
            found.append(current)
            todo.extend(self.kids(current))
        return found

    def roots(self) -> list[Unit]:
        """Units without a parent: a country root, or each province of a deployment without one."""
        return sorted((u for u in self.units.values() if not u.parent_code), key=lambda u: u.code)

    def kinds(self) -> list[UnitKind]:
        """The kinds the map uses, from the top down."""
        return sorted({u.kind for u in self.units.values()}, key=lambda k: k.rank)

    def ranked_kinds(self) -> list[UnitKind]:
        """The levels a leaderboard ranks: kinds of units that sit under another unit (provinces
        under a country, districts, communes, villages, teams; never a root alone at the top)."""
        return sorted({u.kind for u in self.units.values() if u.parent_code}, key=lambda k: k.rank)

    def of_kind(self, kind: UnitKind, under: str | None = None) -> list[str]:
        """Codes of one level, optionally only those below (or equal to) ``under``."""
        pool = self.subtree(under) if under else list(self.units)
        return sorted(c for c in pool if self.units[c].kind is kind)


def _chain(units: Mapping[str, Unit], code: str) -> list[Unit]:
    """The unit and its ancestors, upwards; a cycle cannot occur (the registry checks kinds)."""
    chain: list[Unit] = []
    unit = units.get(code)
    while unit is not None:
        chain.append(unit)
        unit = units.get(unit.parent_code or "")
    return chain


def roll_up(tree: Tree, own: Mapping[str, V], add: Callable[[V, V], V]) -> dict[str, V]:
    """A figure for every unit: its own value when it has one, else the sum of its children's.

    This is how targets are handed down: a commune that set its own daily target is judged by
    it, one that did not is judged by the sum of its teams'. Units with nothing below them that
    has a value get none (absent from the result), which is not the same as a target of 0.
    """
    result: dict[str, V] = {}
    for code in tree.bottom_up:
        if code in own:
            result[code] = own[code]
            continue
        values = [result[k] for k in tree.kids(code) if k in result]
        if values:
            total = values[0]
            for value in values[1:]:
                total = add(total, value)
            result[code] = total
    return result
