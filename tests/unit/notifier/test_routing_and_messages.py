"""Routing to focal points one level up, escalation, and the words of messages."""

from __future__ import annotations

import datetime as dt

from tally06.domain.alert_rules import Rule
from tally06.domain.focal_points import Recipient
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
