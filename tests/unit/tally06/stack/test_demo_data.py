"""The demo's focal points and people follow the kinds of the map they are made for."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from tally06.contract.events import LOCAL_TZ
from tally06.domain.accounts import Role
from tally06.domain.org import UnitKind
from tally06.imports.reference import PROVINCE_CODE, demo_org, two_tier_org
from tally06.stack.demo_data import demo_focal_points, demo_people, demo_work_areas
from tally06.stack.demo_maps import cutoff_before, mapping_summary


def test_two_tier_focal_points_are_the_province_and_its_communes():
    org = two_tier_org()
    rows = demo_focal_points(org)
    assert {r.unit_code for r in rows} == {PROVINCE_CODE} | {u.code for u in org.units(UnitKind.COMMUNE)}
    assert len(rows) == 167
    by_unit = {r.unit_code: r.name for r in rows}
    assert by_unit[PROVINCE_CODE] == "Trực ban Công an tỉnh"
    assert by_unit["TH-X001"] == f"Đầu mối {org.get('TH-X001').name}"  # "Đầu mối Phường Thanh Hóa 1"


def test_demo_people_follow_the_map():
    assert demo_people(demo_org()) == [
        ("tinh", "Trực ban Công an tỉnh", Role.PROVINCE_OPERATOR, PROVINCE_CODE),
        ("samson", "Đầu mối Công an TP Sầm Sơn", Role.DISTRICT_FOCAL, "TH-03"),
        ("totruong", "Tổ trưởng Tổ công tác 1", Role.TEAM_LEAD, "TH-03-C01-T1")]
    people = demo_people(two_tier_org())
    assert people[0][0] == "tinh"
    username, name, role, unit = people[1]
    assert (username, role) == ("samson1", Role.COMMUNE_FOCAL)
    assert two_tier_org().get(unit).name == "Phường Sầm Sơn 1" and name == "Đầu mối Phường Sầm Sơn 1"
    # The team lead works under that commune: the first of its teams.
    username, _, role, team = people[2]
    assert (username, role) == ("totruong", Role.TEAM_LEAD) and two_tier_org().get(team).parent_code == unit


def test_demo_villages_are_shared_out_among_the_teams_of_their_commune():
    org = demo_org()
    areas = demo_work_areas(org, 6)
    communes = org.units(UnitKind.COMMUNE)
    assert len(areas) == 6 * len(communes)
    for area in areas:
        assert area.village.startswith(area.commune + "-V") and org.get(area.team).parent_code == area.commune
    # Shared out evenly: every team of a commune gets villages, none two more than another.
    for commune in communes:
        teams = Counter(a.team for a in areas if a.commune == commune.code)
        assert set(teams) == {u.code for u in org.children(commune.code)}
        assert max(teams.values()) - min(teams.values()) <= 1


def test_mapping_summary_and_cutoff():
    assert mapping_summary() == "166 communes under TH: 27 districts dissolved, 2 communes merged, 165 renamed"
    cutoff = cutoff_before(dt.date(2026, 12, 5))
    assert cutoff.astimezone(LOCAL_TZ).date() == dt.date(2026, 12, 4) and cutoff + dt.timedelta(microseconds=1) == (
        dt.datetime(2026, 12, 5, tzinfo=LOCAL_TZ))
