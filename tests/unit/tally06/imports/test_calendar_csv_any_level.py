"""Phases and working hours may be given to a unit of any level: a country root, a village."""

from __future__ import annotations

import datetime as dt

from tally06.domain.calendar import Phase, WorkingHours, deadline_for, hours_for
from tally06.domain.org import OrgRegistry, Unit, UnitKind
from tally06.imports.phases_csv import parse_phases_csv
from tally06.imports.working_hours_csv import parse_working_hours_csv

ORG = OrgRegistry([Unit("VN", "Việt Nam", UnitKind.COUNTRY, None),
                   Unit("CT", "Thành phố Cần Thơ", UnitKind.PROVINCE, "VN"),
                   Unit("CT-X1", "Phường Ninh Kiều", UnitKind.COMMUNE, "CT"),
                   Unit("CT-X1-V1", "Khu vực 1", UnitKind.VILLAGE, "CT-X1"),
                   Unit("CT-X1-V1-T1", "Tổ công tác 1", UnitKind.TEAM, "CT-X1-V1")])


def test_phases_of_a_country_reach_a_team_under_a_village():
    phases, errors = parse_phases_csv("unit_code,phase,starts,ends,goal\nVN,Đợt 1,2025-07-01,2025-09-30,1000\n"
                                      "CT-X1-V1,Đợt 1,2025-07-01,2025-08-15,20\n", ORG)
    assert errors == []
    assert phases["VN"] == [Phase("Đợt 1", dt.date(2025, 7, 1), dt.date(2025, 9, 30), 1000)]
    assert deadline_for("CT-X1-V1-T1", phases, ORG) == dt.date(2025, 8, 15)
    assert deadline_for("CT-X1", phases, ORG) == dt.date(2025, 9, 30)


def test_working_hours_of_a_village_reach_its_teams():
    rows, errors = parse_working_hours_csv("unit_code,starts,ends\nCT-X1-V1,08:00,17:00\n", ORG)
    assert errors == []
    hours = {r.unit_code: r.hours for r in rows}
    assert hours_for("CT-X1-V1-T1", hours, ORG) == WorkingHours(dt.time(8), dt.time(17))
