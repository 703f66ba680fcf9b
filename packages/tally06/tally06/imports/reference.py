"""Reference data of the demo province (Thanh Hóa plan 70, Appendix I) and the demo org.

The districts and their targets are real; communes and teams below them are generated, the
same every time, for the demo and the tests.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from tally06.contract.events import LOCAL_TZ
from tally06.domain.org import OrgRegistry, Unit, UnitKind

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
