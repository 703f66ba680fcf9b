"""The organisation: a forest of units of documented kinds, with teams as the leaves.

Events name only their team; everything above it is derived here, on the server. A deployment
uses the kinds it needs: the 2023 map is province → district → commune → team, today's
two-tier map is province → commune → team, a village (thôn / tổ dân phố) may sit between
commune and team, and a country may stand above several provinces. A unit sits under any unit
of a higher level, so levels may be skipped; teams are always leaves and never roots.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from tally06.domain.exceptions import OrgError


class UnitKind(enum.StrEnum):
    COUNTRY = "country"
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"
    VILLAGE = "village"
    TEAM = "team"

    @property
    def rank(self) -> int:
        """0 for the country, growing downwards; a child's rank is above its parent's."""
        return _RANK[self]


_RANK = {kind: rank for rank, kind in enumerate(UnitKind)}


class KindWords(NamedTuple):
    """How people name a kind of unit: one unit, and the level when ranking all of them."""

    vi: str
    vi_level: str
    en: str
    en_level: str


# The one home of these words: the board (through the read API), reports and alerts use them.
KIND_WORDS: dict[UnitKind, KindWords] = {
    UnitKind.COUNTRY: KindWords("Toàn quốc", "Toàn quốc", "Country", "Country"),
    UnitKind.PROVINCE: KindWords("Tỉnh/thành phố", "Cấp tỉnh", "Province", "Provinces"),
    UnitKind.DISTRICT: KindWords("Huyện/thị xã", "Cấp huyện", "District", "Districts"),
    UnitKind.COMMUNE: KindWords("Xã/phường", "Cấp xã", "Commune", "Communes"),
    UnitKind.VILLAGE: KindWords("Thôn/tổ dân phố", "Cấp thôn", "Village", "Villages"),
    UnitKind.TEAM: KindWords("Tổ công tác", "Tổ công tác", "Team", "Teams"),
}


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: UnitKind
    parent_code: str | None


@dataclass(frozen=True)
class Lineage:
    """Where a team sits: the codes and kinds from its root down to the team itself."""

    codes: tuple[str, ...]
    kinds: tuple[UnitKind, ...]

    @property
    def team(self) -> str:
        return self.codes[-1]

    def of_kind(self, kind: UnitKind) -> str | None:
        for code, found in zip(self.codes, self.kinds, strict=True):
            if found is kind:
                return code
        return None

    @property
    def province(self) -> str | None:
        return self.of_kind(UnitKind.PROVINCE)

    @property
    def district(self) -> str | None:
        return self.of_kind(UnitKind.DISTRICT)

    @property
    def commune(self) -> str | None:
        return self.of_kind(UnitKind.COMMUNE)

    @property
    def key_unit(self) -> str:
        """The unit that keys the team's facts on the broker: its commune, or the nearest unit
        above the team when the map has no commune level."""
        return self.commune or (self.codes[-2] if len(self.codes) > 1 else self.codes[-1])


class OrgRegistry:
    """An immutable, validated forest of units with their lineage."""

    def __init__(self, units: Iterable[Unit]) -> None:
        self._units: dict[str, Unit] = {}
        for unit in units:
            if unit.code in self._units:
                raise OrgError(f"unit {unit.code}: duplicate code")
            self._units[unit.code] = unit
        self._children: dict[str, list[Unit]] = {}
        for unit in self._units.values():
            self._check_parent(unit)
            if unit.parent_code:
                self._children.setdefault(unit.parent_code, []).append(unit)
        # Ranks grow strictly downwards, so a parent chain cannot loop back on itself.
        self._lineage = {
            u.code: self._lineage_of(u) for u in self._units.values() if u.kind is UnitKind.TEAM
        }

    def _check_parent(self, unit: Unit) -> None:
        if not unit.parent_code:
            if unit.kind is UnitKind.TEAM:
                raise OrgError(f"unit {unit.code}: a team must sit under a unit")
            return
        if unit.parent_code == unit.code:
            raise OrgError(f"unit {unit.code}: a unit cannot be its own parent")
        parent = self._units.get(unit.parent_code)
        if parent is None:
            raise OrgError(f"unit {unit.code}: parent {unit.parent_code!r} is not a known unit")
        if parent.kind is UnitKind.TEAM:
            raise OrgError(f"unit {unit.code}: a team has no units under it, but {parent.code} is a team")
        if parent.kind.rank >= unit.kind.rank:
            raise OrgError(
                f"unit {unit.code}: a {unit.kind.value} cannot sit under a {parent.kind.value} "
                f"({parent.code}); a parent is of a higher level than its children"
            )

    def _lineage_of(self, team: Unit) -> Lineage:
        chain = self.chain(team.code)[::-1]
        return Lineage(tuple(u.code for u in chain), tuple(u.kind for u in chain))

    def __len__(self) -> int:
        return len(self._units)

    def __contains__(self, code: object) -> bool:
        return code in self._units

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OrgRegistry) and self._units == other._units

    def __hash__(self) -> int:
        return hash(frozenset(self._units.values()))

    def get(self, code: str) -> Unit | None:
        return self._units.get(code)

    def lineage(self, team: str) -> Lineage | None:
        """The lineage of a team, or None when the code is not a known team."""
        return self._lineage.get(team)

    def units(self, kind: UnitKind | None = None) -> list[Unit]:
        return [u for u in self._units.values() if kind is None or u.kind is kind]

    def roots(self) -> list[Unit]:
        return sorted((u for u in self._units.values() if not u.parent_code), key=lambda u: u.code)

    def kinds(self) -> list[UnitKind]:
        """The kinds this map uses, from the top down."""
        return sorted({u.kind for u in self._units.values()}, key=lambda k: k.rank)

    def children(self, code: str) -> list[Unit]:
        return list(self._children.get(code, ()))

    def chain(self, code: str) -> list[Unit]:
        """The unit and its ancestors, upwards."""
        chain: list[Unit] = []
        unit = self._units.get(code)
        while unit is not None:
            chain.append(unit)
            unit = self._units.get(unit.parent_code or "")
        return chain

    def ancestors(self, code: str) -> list[str]:
        """Codes from the unit itself up to its root."""
        return [u.code for u in self.chain(code)]

    def teams_under(self, code: str) -> list[str]:
        """Codes of the teams at or below a unit."""
        found, todo = [], [code]
        while todo:
            current = todo.pop()
            unit = self._units.get(current)
            if unit is not None and unit.kind is UnitKind.TEAM:
                found.append(current)
            todo.extend(c.code for c in self._children.get(current, ()))
        return sorted(found)
