"""A deployment with a country root over two provinces, for tests of maps of any depth.

Province TQ is two-tier (communes directly under it, one commune with a village between it and
its teams); province HB keeps its districts (the 2023 shape). The map is written out here as
plain rows, and the ground truth walks these rows itself, so a test's expectation does not go
through the org code it checks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import asyncpg

from tally06.domain.org import OrgRegistry, Unit, UnitKind
from tally06.domain.org_maps import Change, MappingRow
from tally06.store.org import save_org
from tests.support import ground_truth
from tests.support.databases import empty_database

VN = ZoneInfo("Asia/Ho_Chi_Minh")

# Syllables of made-up place names: long enough to look like real ones on a board.
_SYLLABLES = ["An", "Bình", "Cẩm", "Đông", "Hạc", "Hoằng", "Lộc", "Minh", "Ngọc", "Phú", "Quảng", "Thạch",
              "Thiệu", "Trường", "Vĩnh", "Xuân", "Yên", "Hưng", "Nghi", "Tân", "Thành", "Sơn", "Hà", "Đức"]


@dataclass(frozen=True)
class Row:
    code: str
    name: str
    kind: str  # "country" | "province" | "district" | "commune" | "village" | "team"
    parent: str | None


def place_name(n: int) -> str:
    """Distinct for n below 24², like the communes of one province."""
    size = len(_SYLLABLES)
    return f"{_SYLLABLES[n % size]} {_SYLLABLES[(5 * (n // size) + n + 7) % size]}"


def national_rows(two_tier_communes: int = 4, teams_per_commune: int = 2) -> list[Row]:
    """VN over TQ (two-tier: TQ-X01..; the last commune holds a village, TQ-Xnn-V1, with the
    teams) and HB (districts HB-D1 with communes X1, X2 and HB-D2 with X1; two teams each)."""
    rows = [Row("VN", "Việt Nam", "country", None), Row("TQ", "Tỉnh Tuyên Quang", "province", "VN")]
    for n in range(1, two_tier_communes + 1):
        commune = f"TQ-X{n:02d}" if two_tier_communes < 100 else f"TQ-X{n:03d}"
        rows.append(Row(commune, f"{'Phường' if n % 5 == 0 else 'Xã'} {place_name(n)}", "commune", "TQ"))
        holder = commune
        if n == two_tier_communes:
            holder = f"{commune}-V1"
            rows.append(Row(holder, f"Thôn {place_name(n + 50)}", "village", commune))
        rows += [Row(f"{holder}-T{t}", f"Tổ công tác {t}", "team", holder) for t in range(1, teams_per_commune + 1)]
    rows += [Row("HB", "Tỉnh Hòa Bình", "province", "VN"),
             Row("HB-D1", "Huyện Lạc Sơn", "district", "HB"), Row("HB-D2", "Huyện Mai Châu", "district", "HB")]
    for commune, name in [("HB-D1-X1", "Xã Vũ Bình"), ("HB-D1-X2", "Xã Ân Nghĩa"), ("HB-D2-X1", "Xã Chiềng Châu")]:
        rows.append(Row(commune, name, "commune", commune[:5]))
        rows += [Row(f"{commune}-T{t}", f"Tổ công tác {t}", "team", commune) for t in (1, 2)]
    return rows


def hb_two_tier(rows: list[Row]) -> tuple[list[Row], list[MappingRow]]:
    """The next map: HB loses its districts, X1 and X2 of HB-D1 merge into HB-X12 (their teams
    keep their codes), HB-D2's only commune now sits directly under the province; and the
    mapping that says so."""
    moved = {"HB-D1": "HB", "HB-D2": "HB", "HB-D1-X1": "HB-X12", "HB-D1-X2": "HB-X12"}
    kept = [Row(r.code, r.name, r.kind, moved.get(r.parent or "", r.parent)) for r in rows if r.code not in moved]
    mapping = [MappingRow(1, "HB-D1", "HB", Change.DISSOLVE), MappingRow(2, "HB-D2", "HB", Change.DISSOLVE),
               MappingRow(3, "HB-D1-X1", "HB-X12", Change.MERGE), MappingRow(4, "HB-D1-X2", "HB-X12", Change.MERGE)]
    return [*kept, Row("HB-X12", "Xã Vũ Bình Ân Nghĩa", "commune", "HB")], mapping


def registry(rows: list[Row]) -> OrgRegistry:
    return OrgRegistry(Unit(r.code, r.name, UnitKind(r.kind), r.parent) for r in rows)


class Map:
    """Parents, kinds and paths read from the rows, without tally06's org code."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = {r.code: r for r in rows}

    def path(self, code: str) -> list[str]:
        """Codes from the root down to the unit."""
        found = []
        current: str | None = code
        while current is not None:
            found.append(current)
            current = self.rows[current].parent
        return found[::-1]

    def above(self, code: str) -> list[str]:
        """Codes from the parent up to the root."""
        return self.path(code)[::-1][1:]

    def of_kind(self, kind: str, under: str | None = None) -> list[str]:
        return sorted(c for c, r in self.rows.items() if r.kind == kind and (under is None or under in self.path(c)))

    def children(self, code: str) -> list[str]:
        return sorted(c for c, r in self.rows.items() if r.parent == code)

    def teams(self) -> list[str]:
        return self.of_kind("team")

    def inside(self, code: str, scope: str) -> bool:
        return scope in self.path(code)


def count(accepted: list[tuple[int, dict]], the_map: Map) -> dict[str, Counter]:
    """Counters per unit as ``tests.support.ground_truth.count`` makes them, summed up this map's
    paths (credit to the first acceptance of a citizen and metric)."""
    return ground_truth.count(accepted, the_map.path)


async def national_database(server: str, rows: list[Row]) -> str:
    """A new database whose first (and only) map is ``rows``."""
    dsn = await empty_database(server)
    conn = await asyncpg.connect(dsn)
    try:
        await save_org(conn, registry(rows))
    finally:
        await conn.close()
    return dsn
