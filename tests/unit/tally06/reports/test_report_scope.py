"""A report's map: which team codes a unit's figures count, and the row each one counts in."""

from __future__ import annotations

import datetime as dt

from tally06.domain.org import OrgRegistry, Unit, UnitKind
from tally06.domain.org_maps import BEGINNING, OrgMap
from tally06.reports.scope import MapRef, ReportScope, level_en, level_vi

P, C, V, T = UnitKind.PROVINCE, UnitKind.COMMUNE, UnitKind.VILLAGE, UnitKind.TEAM

# A two-tier map after a reorganisation: old teams A-T1 (renamed to N-T1) and B-T1 (its commune
# merged, the team kept its code) are held by teams of this map.
TWO_TIER = OrgMap(2, dt.date(2025, 7, 1), OrgRegistry([
    Unit("TH", "Tỉnh Thanh Hóa", P, None),
    Unit("N", "Phường Hạc Thành", C, "TH"),
    Unit("N-V1", "Tổ dân phố 1", V, "N"),
    Unit("N-T1", "Tổ công tác 1", T, "N-V1"),
    Unit("B-T1", "Tổ công tác 2", T, "N"),
    Unit("Q", "Xã Quảng Phú", C, "TH"),
    Unit("Q-T1", "Tổ công tác 1", T, "Q"),
]), {"A-T1": "N-T1"})


def scope(code: str) -> ReportScope:
    unit = TWO_TIER.registry.get(code)
    assert unit is not None
    return ReportScope(TWO_TIER, unit)


def test_a_unit_counts_its_teams_and_the_old_codes_they_hold():
    assert scope("TH").team_codes() == ["A-T1", "B-T1", "N-T1", "Q-T1"]
    assert scope("N").team_codes() == ["A-T1", "B-T1", "N-T1"]
    assert scope("Q").team_codes() == ["Q-T1"]
    assert [u.code for u in scope("N").teams()] == ["B-T1", "N-T1"]


def test_each_code_counts_in_the_child_that_holds_it():
    province, commune = scope("TH"), scope("N")
    assert [u.code for u in province.children()] == ["N", "Q"]
    assert {t: province.child_holding(t) for t in ("A-T1", "B-T1", "N-T1", "Q-T1")} == {
        "A-T1": "N", "B-T1": "N", "N-T1": "N", "Q-T1": "Q"}
    # in a commune with a village level, the rows are its village and its team
    assert {t: commune.child_holding(t) for t in ("A-T1", "B-T1", "Q-T1")} == {"A-T1": "N-V1", "B-T1": "B-T1",
                                                                             "Q-T1": None}
    assert scope("N-V1").child_holding("A-T1") == "N-T1"
    assert province.child_holding("UNKNOWN") is None


def test_the_map_and_level_as_reports_print_them():
    assert MapRef(2, dt.date(2025, 7, 1)).label_vi() == "bản đồ hành chính số 2, áp dụng từ ngày 01/07/2025"
    assert MapRef(2, dt.date(2025, 7, 1)).label_en() == "map 2 (in force from 2025-07-01)"
    assert MapRef(1, BEGINNING).label_vi() == "bản đồ hành chính số 1, áp dụng từ đầu"
    assert MapRef(1, BEGINNING).label_en() == "map 1 (in force from the beginning)"
    assert level_vi([C]) == "Cấp xã" and level_en([C]) == "Communes"
    assert level_vi([V, T]) == "Cấp thôn, Tổ công tác" and level_en([V, T]) == "Villages, Teams"
    assert scope("TH").ref == MapRef(2, dt.date(2025, 7, 1))
