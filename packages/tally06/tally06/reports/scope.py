"""Which map a report is in, which unit it is about, and whose events it counts.

A report for a cutoff is made in the map in force on the cutoff's local day, unless a map is
asked for by its id. Maps are never changed once loaded, and every map says which of its teams
holds the work of each team code ever used (``map_holders``), so a report for a past cutoff
sums the same events through the same tree whatever maps were loaded since: it stays the same,
cell for cell, after a reorganisation.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from tally06.contract.events import local_day
from tally06.domain.org import KIND_WORDS, Unit, UnitKind
from tally06.domain.org_maps import BEGINNING, OrgMap
from tally06.reports.exceptions import ReportError
from tally06.store.org import load_map


@dataclass(frozen=True)
class MapRef:
    """The map a report is in, as the report prints it."""

    id: int
    effective_from: dt.date

    def label_vi(self) -> str:
        since = "từ đầu" if self.effective_from <= BEGINNING else f"từ ngày {self.effective_from:%d/%m/%Y}"
        return f"bản đồ hành chính số {self.id}, áp dụng {since}"

    def label_en(self) -> str:
        since = "from the beginning" if self.effective_from <= BEGINNING else f"from {self.effective_from}"
        return f"map {self.id} (in force {since})"


def level_vi(kinds: list[UnitKind]) -> str:
    """The level of a report's rows in Vietnamese ("Cấp xã"); several kinds are joined."""
    return ", ".join(KIND_WORDS[k].vi_level for k in kinds)


def level_en(kinds: list[UnitKind]) -> str:
    return ", ".join(KIND_WORDS[k].en_level for k in kinds)


@dataclass(frozen=True)
class ReportScope:
    """A unit of a map: the report's subject."""

    map: OrgMap
    unit: Unit

    @property
    def ref(self) -> MapRef:
        return MapRef(self.map.id, self.map.effective_from)

    def children(self) -> list[Unit]:
        """The units under the unit, in code order (the order of the report's rows)."""
        return sorted(self.map.registry.children(self.unit.code), key=lambda u: u.code)

    def teams(self) -> list[Unit]:
        """The teams of this map at or below the unit, in code order."""
        registry = self.map.registry
        return [u for code in registry.teams_under(self.unit.code) if (u := registry.get(code)) is not None]

    def team_codes(self) -> list[str]:
        """Every team code whose events count for the unit: its teams in this map, and the codes
        of earlier maps whose work they hold (a renamed team's old code)."""
        mine = set(self.map.registry.teams_under(self.unit.code))
        return sorted(mine | {old for old, held in self.map.holders.items() if held in mine})

    def child_holding(self, team: str) -> str | None:
        """The child of the unit under which a team code's work counts in this map."""
        lineage = self.map.lineage(team)
        if lineage is None or self.unit.code not in lineage.codes:
            return None
        below = lineage.codes.index(self.unit.code) + 1
        return lineage.codes[below] if below < len(lineage.codes) else None


def check_aware(moment: dt.datetime, what: str) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ReportError(f"{what} needs a UTC offset, e.g. 2023-04-30T17:00+07:00")
    return moment


async def report_scope(conn: asyncpg.Connection, unit_code: str, at: dt.datetime,
                       map_id: int | None = None) -> ReportScope:
    """The unit in map ``map_id``, or in the map in force on the local day of ``at``."""
    if map_id is not None:
        found = await load_map(conn, map_id)
        if found is None:
            raise ReportError(f"there is no map {map_id} (see 'tally06 org maps')", "map")
    else:
        found = await load_map(conn, day=local_day(at))
        if found is None:
            raise ReportError(f"no map of the organisation is in force on {local_day(at)}", "map")
    unit = found.registry.get(unit_code)
    if unit is None:
        raise ReportError(f"unknown unit {unit_code!r} in {MapRef(found.id, found.effective_from).label_en()}",
                          "unit")
    return ReportScope(found, unit)
