"""The organisation registry: province → district → commune → team.

Events name only their team; everything above it is derived here, on the server.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from tally06.domain.exceptions import OrgError


class UnitKind(enum.StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"
    TEAM = "team"


_PARENT_KIND = {
    UnitKind.DISTRICT: UnitKind.PROVINCE,
    UnitKind.COMMUNE: UnitKind.DISTRICT,
    UnitKind.TEAM: UnitKind.COMMUNE,
}


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: UnitKind
    parent_code: str | None


@dataclass(frozen=True)
class Lineage:
    """Where a team sits in the hierarchy."""

    province: str
    district: str
    commune: str
    team: str


class OrgRegistry:
    """An immutable, validated set of units with their lineage."""

    def __init__(self, units: Iterable[Unit]) -> None:
        self._units: dict[str, Unit] = {}
        for unit in units:
            if unit.code in self._units:
                raise OrgError(f"unit {unit.code}: duplicate code")
            self._units[unit.code] = unit
        for unit in self._units.values():
            self._check_parent(unit)
        self._lineage = {
            u.code: self._lineage_of(u) for u in self._units.values() if u.kind is UnitKind.TEAM
        }

    def _check_parent(self, unit: Unit) -> None:
        if unit.kind is UnitKind.PROVINCE:
            if unit.parent_code:
                raise OrgError(f"unit {unit.code}: a province has no parent")
            return
        parent = self._units.get(unit.parent_code or "")
        if parent is None:
            raise OrgError(f"unit {unit.code}: parent {unit.parent_code!r} is not a known unit")
        if parent.kind is not _PARENT_KIND[unit.kind]:
            raise OrgError(
                f"unit {unit.code}: a {unit.kind.value} must sit under a "
                f"{_PARENT_KIND[unit.kind].value}, not a {parent.kind.value}"
            )

    def _lineage_of(self, team: Unit) -> Lineage:
        commune = self._units[team.parent_code or ""]
        district = self._units[commune.parent_code or ""]
        return Lineage(
            province=district.parent_code or "", district=district.code, commune=commune.code,
            team=team.code,
        )

    def __len__(self) -> int:
        return len(self._units)

    def __contains__(self, code: object) -> bool:
        return code in self._units

    def get(self, code: str) -> Unit | None:
        return self._units.get(code)

    def lineage(self, team: str) -> Lineage | None:
        """The lineage of a team, or None when the code is not a known team."""
        return self._lineage.get(team)

    def units(self, kind: UnitKind | None = None) -> list[Unit]:
        return [u for u in self._units.values() if kind is None or u.kind is kind]

    def children(self, code: str) -> list[Unit]:
        return [u for u in self._units.values() if u.parent_code == code]

    def ancestors(self, code: str) -> list[str]:
        """Codes from the unit itself up to its province."""
        chain: list[str] = []
        unit = self._units.get(code)
        while unit is not None:
            chain.append(unit.code)
            unit = self._units.get(unit.parent_code or "")
        return chain
