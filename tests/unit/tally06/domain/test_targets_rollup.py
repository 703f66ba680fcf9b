"""Targets set at any level roll up the tree in force: a unit's own, else the sum of its children's.

Two trees: today's two-tier province (province → commune → team), and a country root over a
province with districts and villages and a two-tier one. Every expected figure is added up by
hand in the test.
"""

from __future__ import annotations

import datetime as dt

from tally06.domain.calendar import CAMPAIGN_HOURS, Phase, WorkingHours, deadline_for, hours_for, phases_for
from tally06.domain.org import OrgRegistry, Unit, UnitKind
from tally06.domain.targets import CampaignTarget, rollup_campaign_targets, rollup_daily_targets

P, D, C, V, T = UnitKind.PROVINCE, UnitKind.DISTRICT, UnitKind.COMMUNE, UnitKind.VILLAGE, UnitKind.TEAM

TWO_TIER = OrgRegistry([
    Unit("TH", "Tỉnh Thanh Hóa", P, None),
    Unit("X1", "Phường Hạc Thành", C, "TH"),
    Unit("X2", "Xã Quảng Phú", C, "TH"),
    Unit("X3", "Xã Mường Lát", C, "TH"),
    Unit("X1-T1", "Tổ 1", T, "X1"), Unit("X1-T2", "Tổ 2", T, "X1"),
    Unit("X2-T1", "Tổ 1", T, "X2"),
    Unit("X3-T1", "Tổ 1", T, "X3"),
])

NATIONAL = OrgRegistry([
    Unit("VN", "Việt Nam", UnitKind.COUNTRY, None),
    # a province of 2023, with a district and a commune organised in villages
    Unit("TH", "Tỉnh Thanh Hóa", P, "VN"),
    Unit("TH-01", "Thành phố Thanh Hóa", D, "TH"),
    Unit("TH-01-C01", "Phường Điện Biên", C, "TH-01"),
    Unit("TH-01-C01-V1", "Tổ dân phố 1", V, "TH-01-C01"),
    Unit("TH-01-C01-V2", "Tổ dân phố 2", V, "TH-01-C01"),
    Unit("TH-01-C01-V1-T1", "Tổ công tác 1", T, "TH-01-C01-V1"),
    Unit("TH-01-C01-V1-T2", "Tổ công tác 2", T, "TH-01-C01-V1"),
    Unit("TH-01-C01-V2-T1", "Tổ công tác 1", T, "TH-01-C01-V2"),
    Unit("TH-01-C02", "Phường Lam Sơn", C, "TH-01"),
    Unit("TH-01-C02-T1", "Tổ công tác 1", T, "TH-01-C02"),
    # a two-tier city
    Unit("CT", "Thành phố Cần Thơ", P, "VN"),
    Unit("CT-X1", "Phường Ninh Kiều", C, "CT"),
    Unit("CT-X1-T1", "Tổ công tác 1", T, "CT-X1"),
    Unit("CT-X2", "Phường Sóc Trăng", C, "CT"),
    Unit("CT-X2-T1", "Tổ công tác 1", T, "CT-X2"),
])


def target(code: str, level1: int, level2: int) -> CampaignTarget:
    return CampaignTarget(code, "", level1 + level2, level1, level2)


def figures(rolled: dict[str, CampaignTarget]) -> dict[str, tuple[int, int, int]]:
    return {code: (t.total, t.level1, t.level2) for code, t in rolled.items()}


def test_campaign_targets_of_communes_sum_to_a_two_tier_province():
    rolled = rollup_campaign_targets(TWO_TIER, {"X1": target("X1", 800, 200), "X2": target("X2", 300, 100)})
    assert figures(rolled) == {"X1": (1000, 800, 200), "X2": (400, 300, 100), "TH": (1400, 1100, 300)}
    assert rolled["TH"].unit_name == "Tỉnh Thanh Hóa"  # named as in the map
    # X3 and the teams have nothing at or below them: no target, not a target of 0
    assert "X3" not in rolled and "X1-T1" not in rolled


def test_a_unit_s_own_campaign_target_wins_over_its_children_s_sum():
    given = {"X1-T1": target("X1-T1", 50, 10), "X1-T2": target("X1-T2", 30, 10),  # X1's teams: 100
             "X2-T1": target("X2-T1", 70, 0),
             "X2": target("X2", 150, 50)}  # the commune's own 200 wins over its team's 70
    rolled = rollup_campaign_targets(TWO_TIER, given)
    assert figures(rolled)["X1"] == (100, 80, 20)
    assert figures(rolled)["X2"] == (200, 150, 50)
    assert figures(rolled)["TH"] == (300, 230, 70)  # 100 + 200


def test_campaign_targets_roll_up_through_villages_to_a_country_root():
    given = {
        "TH-01-C01-V1-T1": target("TH-01-C01-V1-T1", 10, 5),   # 15
        "TH-01-C01-V1-T2": target("TH-01-C01-V1-T2", 20, 5),   # 25 → village V1: 40
        "TH-01-C01-V2": target("TH-01-C01-V2", 60, 0),         # a village's own: 60 → commune C01: 100
        "TH-01-C02": target("TH-01-C02", 90, 10),              # 100 → district TH-01: 200 → TH: 200
        "CT": target("CT", 500, 100),                           # the city's own 600
        "CT-X1": target("CT-X1", 1, 1),                         # ignored for CT, which has its own
        "OLD-CODE": target("OLD-CODE", 7, 7),                   # a unit of another map: ignored
    }
    rolled = figures(rollup_campaign_targets(NATIONAL, given))
    assert rolled["TH-01-C01-V1"] == (40, 30, 10)
    assert rolled["TH-01-C01"] == (100, 90, 10)
    assert rolled["TH-01"] == (200, 180, 20)
    assert rolled["TH"] == (200, 180, 20)
    assert rolled["CT"] == (600, 500, 100) and rolled["CT-X1"] == (2, 1, 1)
    assert rolled["VN"] == (800, 680, 120)
    assert "OLD-CODE" not in rolled and "CT-X2" not in rolled


def test_daily_targets_of_any_level_roll_up_per_metric():
    explicit = {
        ("TH-01-C01-V1-T1", "activated"): 10, ("TH-01-C01-V1-T2", "activated"): 12,
        ("TH-01-C01-V1", "collected_l2"): 30,       # a village's own, for another metric
        ("TH-01-C02-T1", "activated"): 8,
        ("TH-01", "activated"): 50,                  # a district's own wins over 10 + 12 + 8
        ("CT-X1-T1", "activated"): 5, ("CT-X2-T1", "activated"): 6,
    }
    rolled = rollup_daily_targets(NATIONAL, explicit)
    assert rolled["TH-01-C01-V1"] == {"activated": 22, "collected_l2": 30}
    assert rolled["TH-01-C01"] == {"activated": 22, "collected_l2": 30}
    assert rolled["TH-01"] == {"activated": 50, "collected_l2": 30}
    assert rolled["TH"] == {"activated": 50, "collected_l2": 30}
    assert rolled["CT"] == {"activated": 11}
    assert rolled["VN"] == {"activated": 61, "collected_l2": 30}
    assert "TH-01-C01-V2" not in rolled


def test_daily_targets_of_a_two_tier_province():
    rolled = rollup_daily_targets(TWO_TIER, {("X1-T1", "activated"): 20, ("X1-T2", "activated"): 25,
                                            ("X3", "activated"): 40, ("TH", "activated_l2"): 15})
    assert rolled["X1"] == {"activated": 45}
    assert rolled["TH"] == {"activated": 85, "activated_l2": 15}


def test_phases_and_hours_follow_the_nearest_ancestor_at_any_depth():
    national = [Phase("Toàn quốc", dt.date(2025, 7, 1), dt.date(2025, 12, 31), 1000)]
    village = [Phase("Tổ dân phố", dt.date(2025, 7, 1), dt.date(2025, 9, 30), 10)]
    phases = {"VN": national, "TH-01-C01-V2": village}
    assert phases_for("TH-01-C01-V1-T1", phases, NATIONAL) == national
    assert phases_for("TH-01-C01-V2-T1", phases, NATIONAL) == village
    assert deadline_for("CT-X2-T1", phases, NATIONAL) == dt.date(2025, 12, 31)
    early, village_hours = WorkingHours(dt.time(6, 0), dt.time(20, 0)), WorkingHours(dt.time(8, 0), dt.time(17, 0))
    hours = {"CT": early, "TH-01-C01-V1": village_hours}
    assert hours_for("CT-X1-T1", hours, NATIONAL) == early
    assert hours_for("TH-01-C01-V1-T2", hours, NATIONAL) == village_hours
    assert hours_for("TH-01-C01-V2-T1", hours, NATIONAL) == CAMPAIGN_HOURS
    assert hours_for("X2-T1", {"TH": early}, TWO_TIER) == early
