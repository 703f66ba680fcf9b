"""Routing to the nearest focal points up the live map, escalation, and the words of messages."""

from __future__ import annotations

import datetime as dt

from tally06.domain.alert_rules import Rule
from tally06.domain.focal_points import Recipient
from tally06.domain.org import OrgRegistry, Unit, UnitKind
from tally06.imports.reference import demo_org
from tally06_notifier.compose import AlertFacts, compose
from tally06_notifier.routing import dedupe_key, recipients_for

ORG = demo_org()


def person(i: int, unit: str) -> Recipient:
    return Recipient(id=i, unit=unit, name=f"Đầu mối {unit}", channel="console", address=unit)


PEOPLE = {"TH-03-C01": [person(1, "TH-03-C01")], "TH-03": [person(2, "TH-03")], "TH": [person(3, "TH")]}


def test_each_level_reports_to_the_one_above():
    assert recipients_for("TH-03-C01-T1", ORG, PEOPLE) == PEOPLE["TH-03-C01"]
    assert recipients_for("TH-03-C01", ORG, PEOPLE) == PEOPLE["TH-03"]
    assert recipients_for("TH-03", ORG, PEOPLE) == PEOPLE["TH"]


def test_escalation_goes_one_more_level_up_and_stops_at_the_province():
    assert recipients_for("TH-03-C01-T1", ORG, PEOPLE, escalated=True) == PEOPLE["TH-03"]
    assert recipients_for("TH-03-C01", ORG, PEOPLE, escalated=True) == PEOPLE["TH"]
    assert recipients_for("TH-03", ORG, PEOPLE, escalated=True) == []


def test_a_level_without_focal_points_is_skipped_upwards():
    people = {"TH-03": PEOPLE["TH-03"], "TH": PEOPLE["TH"]}
    assert recipients_for("TH-03-C02-T1", ORG, people) == PEOPLE["TH-03"]
    assert recipients_for("TH-03-C02-T1", ORG, people, escalated=True) == PEOPLE["TH"]


def test_dedupe_keys_name_one_message_to_one_person():
    assert dedupe_key(7, "remind1", PEOPLE["TH"][0]) == "alert:7:remind1:to:3"


def test_message_is_vietnamese_with_figures_and_ack_link():
    unit = ORG.get("TH-03-C01-T1")
    facts = AlertFacts(7, unit, Rule.PACE, dt.date(2024, 10, 25),
                       {"metrics": {"activated": {"target": 1200, "actual": 300, "expected": 620.7}}})
    subject, body, payload = compose(facts, "alert", "http://board/v1/alerts/7/ack?recipient=1&token=t")
    assert subject == f"[Đề án 06] Cảnh báo: {unit.name} (TH-03-C01-T1) chậm tiến độ (25/10/2024)"
    assert "- kích hoạt: 300/1.200 (cần đạt 620.7 vào lúc này)" in body
    assert body.endswith("http://board/v1/alerts/7/ack?recipient=1&token=t")
    assert payload["alert_id"] == 7 and payload["rule"] == "pace" and payload["unit"] == "TH-03-C01-T1"


# A country over two provinces: A is two-tier (communes directly under it), B keeps districts.
NATIONAL = OrgRegistry([
    Unit("VN", "Việt Nam", UnitKind.COUNTRY, None),
    Unit("A", "Tỉnh A", UnitKind.PROVINCE, "VN"), Unit("B", "Tỉnh B", UnitKind.PROVINCE, "VN"),
    Unit("A-X1", "Xã Một", UnitKind.COMMUNE, "A"), Unit("A-X1-V1", "Thôn Đông", UnitKind.VILLAGE, "A-X1"),
    Unit("A-X1-V1-T1", "Tổ 1", UnitKind.TEAM, "A-X1-V1"), Unit("A-X1-T2", "Tổ 2", UnitKind.TEAM, "A-X1"),
    Unit("B-D1", "Huyện Một", UnitKind.DISTRICT, "B"), Unit("B-D1-X1", "Xã Hai", UnitKind.COMMUNE, "B-D1"),
    Unit("B-D1-X1-T1", "Tổ 1", UnitKind.TEAM, "B-D1-X1"),
])
NATIONAL_PEOPLE = {code: [person(n, code)] for n, code in enumerate(["A-X1", "A", "B", "B-D1", "VN"], start=10)}


def test_a_two_tier_commune_reports_to_its_province_and_never_to_the_other_one():
    assert recipients_for("A-X1-T2", NATIONAL, NATIONAL_PEOPLE) == NATIONAL_PEOPLE["A-X1"]
    assert recipients_for("A-X1", NATIONAL, NATIONAL_PEOPLE) == NATIONAL_PEOPLE["A"]
    assert recipients_for("A-X1", NATIONAL, NATIONAL_PEOPLE, escalated=True) == NATIONAL_PEOPLE["VN"]
    # A village without focal points is skipped: its team's alert reaches the commune.
    assert recipients_for("A-X1-V1-T1", NATIONAL, NATIONAL_PEOPLE) == NATIONAL_PEOPLE["A-X1"]
    assert recipients_for("A-X1-V1", NATIONAL, NATIONAL_PEOPLE) == NATIONAL_PEOPLE["A-X1"]


def test_the_province_with_districts_and_the_provinces_themselves():
    assert recipients_for("B-D1-X1-T1", NATIONAL, NATIONAL_PEOPLE) == NATIONAL_PEOPLE["B-D1"]
    assert recipients_for("B-D1-X1", NATIONAL, NATIONAL_PEOPLE) == NATIONAL_PEOPLE["B-D1"]
    assert recipients_for("B-D1", NATIONAL, NATIONAL_PEOPLE) == NATIONAL_PEOPLE["B"]
    assert recipients_for("A", NATIONAL, NATIONAL_PEOPLE) == NATIONAL_PEOPLE["VN"]
    assert recipients_for("VN", NATIONAL, NATIONAL_PEOPLE) == []
    # Province A's people never hear of province B, even when B has nobody of its own.
    only_a = {code: people for code, people in NATIONAL_PEOPLE.items() if code.startswith("A")}
    assert recipients_for("B-D1-X1-T1", NATIONAL, only_a) == []


def test_a_message_says_the_kind_and_where_the_unit_sits():
    unit = NATIONAL.get("A-X1")
    facts = AlertFacts(8, unit, Rule.MISSED_DAILY, dt.date(2025, 9, 2),
                       {"metrics": {"activated": {"target": 50, "actual": 20}}}, tuple(NATIONAL.chain("A-X1")[1:]))
    subject, body, payload = compose(facts, "escalation", "http://board/ack")
    assert subject == "[Đề án 06] Báo cáo vượt cấp: Xã Một (A-X1) không đạt chỉ tiêu ngày (02/09/2025)"
    assert body.splitlines()[1] == "Xã/phường thuộc Việt Nam › Tỉnh A."
    assert (payload["unit_kind"], payload["unit_kind_vi"], payload["unit_kind_en"]) == ("commune", "Xã/phường", "Commune")
    assert payload["path"] == ["VN", "A", "A-X1"]
