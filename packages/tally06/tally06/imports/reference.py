"""Reference data of the demo province (Thanh Hóa plan 70, Appendix I) and its two demo maps.

The 2023 map (``demo_org``): the 27 districts of Appendix I and their targets are real; communes
and teams below them are generated, the same every time. The two-tier map (``two_tier_org``,
in force since 2025-07-01): 166 communes directly under the province, made by merging the 2023
demo communes of each district, with generated names, the same teams, the mapping from the
2023 map (``two_tier_mapping``) and commune targets shared out of Appendix I
(``commune_targets``). Everything here is pure and deterministic.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from tally06.contract.events import LOCAL_TZ
from tally06.domain.org import OrgRegistry, Unit, UnitKind
from tally06.domain.org_maps import Change, MappingRow

if TYPE_CHECKING:
    from tally06.domain.targets import CampaignTarget

PROVINCE_CODE = "TH"
PROVINCE_NAME = "Tỉnh Thanh Hóa"
TEAMS_PER_COMMUNE = 3


@dataclass(frozen=True)
class DistrictTarget:
    """One row of Appendix I."""

    no: int
    code: str
    name: str
    unit_kind: str
    target_total: int
    target_level1: int
    target_level2: int
    activated_level1: int
    activated_level2: int
    activated_total: int
    completion_pct: str
    remaining: int


@cache
def appendix1() -> tuple[DistrictTarget, ...]:
    text = resources.files("tally06.data").joinpath("thanh_hoa_plan70_appendix1.csv").read_text(
        encoding="utf-8"
    )
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        no = int(row["no"])
        rows.append(
            DistrictTarget(
                no=no,
                code=f"{PROVINCE_CODE}-{no:02d}",
                name=row["unit_name"],
                unit_kind=row["unit_kind"],
                target_total=int(row["target_total"]),
                target_level1=int(row["target_level1"]),
                target_level2=int(row["target_level2"]),
                activated_level1=int(row["activated_level1"]),
                activated_level2=int(row["activated_level2"]),
                activated_total=int(row["activated_total"]),
                completion_pct=row["completion_pct"],
                remaining=int(row["remaining"]),
            )
        )
    return tuple(rows)


def communes_for(target_total: int) -> int:
    """Communes generated for a district: more for the populous ones (about 20,000 each)."""
    return max(3, round(target_total / 20_000))


@cache
def demo_org() -> OrgRegistry:
    units = [Unit(PROVINCE_CODE, PROVINCE_NAME, UnitKind.PROVINCE, None)]
    for district in appendix1():
        units.append(Unit(district.code, district.name, UnitKind.DISTRICT, PROVINCE_CODE))
        for c in range(1, communes_for(district.target_total) + 1):
            commune = f"{district.code}-C{c:02d}"
            units.append(Unit(commune, f"Xã/Phường {c:02d} ({district.name})", UnitKind.COMMUNE,
                              district.code))
            for t in range(1, TEAMS_PER_COMMUNE + 1):
                units.append(Unit(f"{commune}-T{t}", f"Tổ công tác {t}", UnitKind.TEAM, commune))
    return OrgRegistry(units)


# Plan 70 was issued on 2023-03-21 and its targets run from phase 1 (2023-03-24, local time).
PLAN70_START = dt.datetime(2023, 3, 24, tzinfo=LOCAL_TZ)


def appendix1_targets() -> list[CampaignTarget]:
    """The campaign target of each district, as Appendix I assigns it."""
    from tally06.domain.targets import CampaignTarget  # the importer reads this module's codes

    return [CampaignTarget(d.code, d.name, d.target_total, d.target_level1, d.target_level2) for d in appendix1()]


# --- The two-tier map (since 2025-07-01) ----------------------------------------------------
# Thanh Hóa kept its borders, dissolved its districts and merged its communes into 166
# commune-level units directly under the province. Their real names are not available offline,
# so the demo's are generated from the district they came from ("Phường Sầm Sơn 1").
TWO_TIER_FROM = dt.date(2025, 7, 1)


class DemoMap(enum.StrEnum):
    """The demo's two maps, as ``tally06 up --demo --demo-map`` names them."""

    TWO_TIER = "two-tier"
    Y2023 = "2023"


TWO_TIER_COMMUNES = 166
TWO_TIER_SOURCE = "demo: Thanh Hóa two-tier map (generated communes)"
_URBAN_KINDS = ("city", "town")
_DISTRICT_PREFIXES = ("Thành phố ", "Thị xã ", "Huyện ")


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` shared in proportion to ``weights`` by largest remainder (Hamilton): every
    share is the floor of its quota or one more, and the shares sum to ``total`` exactly. Ties
    of remainders go to the earlier weight, so the result is the same on every run."""
    whole = sum(weights)
    if whole <= 0:
        raise ValueError("weights must sum to more than 0")
    shares = [total * w // whole for w in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


@dataclass(frozen=True)
class TwoTierCommune:
    """A commune of the two-tier map, made of 2023 demo communes of one district."""

    code: str
    name: str
    district: str  # the 2023 district its communes were in
    old_communes: tuple[str, ...]

    @property
    def teams(self) -> int:
        return len(self.old_communes) * TEAMS_PER_COMMUNE


def _place_name(district: DistrictTarget) -> str:
    for prefix in _DISTRICT_PREFIXES:
        if district.name.startswith(prefix):
            return district.name.removeprefix(prefix)
    return district.name


def _groups(members: Sequence[str], count: int) -> list[tuple[str, ...]]:
    """``members`` in order, cut into ``count`` runs whose sizes differ by one at most (the
    longer runs first)."""
    size, extra = divmod(len(members), count)
    groups, at = [], 0
    for n in range(count):
        step = size + (n < extra)
        groups.append(tuple(members[at:at + step]))
        at += step
    return groups


@cache
def two_tier_communes() -> tuple[TwoTierCommune, ...]:
    """The 166 communes: each district gets a share of 166 in proportion to its number of
    2023 demo communes (largest remainder), and its communes, in code order, are merged in runs
    of as equal a size as can be. Codes run TH-X001…TH-X166 in Appendix I order."""
    org = demo_org()
    districts = appendix1()
    old = [[u.code for u in sorted(org.children(d.code), key=lambda u: u.code)] for d in districts]
    shares = apportion(TWO_TIER_COMMUNES, [len(c) for c in old])
    communes: list[TwoTierCommune] = []
    for district, members, share in zip(districts, old, shares, strict=True):
        word = "Phường" if district.unit_kind in _URBAN_KINDS else "Xã"
        for n, group in enumerate(_groups(members, share), start=1):
            communes.append(TwoTierCommune(f"{PROVINCE_CODE}-X{len(communes) + 1:03d}",
                                           f"{word} {_place_name(district)} {n}", district.code, group))
    return tuple(communes)


@cache
def two_tier_org() -> OrgRegistry:
    """The two-tier map: the province, its 166 communes, and under them every team of the 2023
    demo map with its code unchanged, so the history of each team carries over."""
    units = [Unit(PROVINCE_CODE, PROVINCE_NAME, UnitKind.PROVINCE, None)]
    old = demo_org()
    for commune in two_tier_communes():
        units.append(Unit(commune.code, commune.name, UnitKind.COMMUNE, PROVINCE_CODE))
        for old_commune in commune.old_communes:
            units.extend(Unit(t.code, t.name, UnitKind.TEAM, commune.code)
                         for t in sorted(old.children(old_commune), key=lambda u: u.code))
    return OrgRegistry(units)


@cache
def two_tier_mapping() -> tuple[MappingRow, ...]:
    """What became of the 2023 demo map's units: each district is dissolved into the province,
    each commune merged into its new commune, or renamed when it is the new commune's only
    part (a new code and name for the same ground). Row numbers are those of the mapping as a
    CSV file under its header line."""
    rows: list[tuple[str, str, Change]] = [(d.code, PROVINCE_CODE, Change.DISSOLVE) for d in appendix1()]
    for commune in two_tier_communes():
        change = Change.MERGE if len(commune.old_communes) > 1 else Change.RENAME
        rows.extend((old, commune.code, change) for old in commune.old_communes)
    return tuple(MappingRow(n, old, new, change) for n, (old, new, change) in enumerate(rows, start=2))


@dataclass(frozen=True)
class CommuneTarget:
    """A two-tier commune's share of its 2023 district's Appendix I row."""

    code: str
    name: str
    district: str
    target_total: int
    target_level1: int
    target_level2: int
    activated_total: int

    @property
    def remaining(self) -> int:
        return self.target_total - self.activated_total


@cache
def commune_targets() -> tuple[CommuneTarget, ...]:
    """Each district's Appendix I figures (level 1 and level 2 targets, activated at
    2023-02-08) shared among its two-tier communes in proportion to their teams, each column by
    largest remainder, so every district's communes sum to its row exactly and the province to
    3,243,976."""
    by_district: dict[str, list[TwoTierCommune]] = {}
    for commune in two_tier_communes():
        by_district.setdefault(commune.district, []).append(commune)
    targets: list[CommuneTarget] = []
    for district in appendix1():
        communes = by_district[district.code]
        weights = [c.teams for c in communes]
        level1 = apportion(district.target_level1, weights)
        level2 = apportion(district.target_level2, weights)
        activated = [a + b for a, b in zip(apportion(district.activated_level1, weights),
                                           apportion(district.activated_level2, weights), strict=True)]
        targets.extend(CommuneTarget(c.code, c.name, district.code, l1 + l2, l1, l2, a)
                       for c, l1, l2, a in zip(communes, level1, level2, activated, strict=True))
    return tuple(targets)


def two_tier_targets() -> list[CampaignTarget]:
    """The campaign target of each two-tier commune (``commune_targets``)."""
    from tally06.domain.targets import CampaignTarget

    return [CampaignTarget(c.code, c.name, c.target_total, c.target_level1, c.target_level2)
            for c in commune_targets()]
