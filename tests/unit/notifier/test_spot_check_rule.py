"""The spot_check_failed rule: one alert per failed check, to the unit and the level above at
once, resolved by a later passing check, never followed up like a day's alerts."""

from __future__ import annotations

import datetime as dt

from tally06.contract.events import LOCAL_TZ
from tally06.domain.alert_rules import Rule
from tally06.domain.focal_points import Recipient
from tally06.domain.org import OrgRegistry, Unit, UnitKind
from tally06.domain.spot_checks import CheckStatus
from tally06_notifier.compose import AlertFacts, compose
from tally06_notifier.routing import spot_check_recipients
from tally06_notifier.rules import AlertState, OpenAlert, Policy, ReopenAlert, ResolveAlert, evaluate
from tally06_notifier.spot_check_rule import LOOKBACK, DecidedCheck, SpotAlert, spot_check_decisions

DAY = dt.date(2024, 11, 20)
NOW = dt.datetime.combine(DAY, dt.time(15, 0), LOCAL_TZ)
C01 = "TH-03-C01"


def check(id_: int = 7, status: CheckStatus = CheckStatus.FAILED, at: dt.datetime = NOW - dt.timedelta(hours=1),
          unit: str = C01) -> DecidedCheck:
    return DecidedCheck(id_, unit, status, at, n=16, d=2, successes=10, failures=3, estimate=0.77, ci_low=0.5,
                        ci_high=0.92, found={"not_activated": 2, "not_guided": 1})


def alert(check_id: int | None = 7, status: str = "open", day: dt.date = DAY, unit: str = C01) -> SpotAlert:
    opened = dt.datetime.combine(day, dt.time(14, 0), LOCAL_TZ)
    return SpotAlert(AlertState(id=3, unit=unit, rule=Rule.SPOT_CHECK_FAILED, day=day, status=status,
                                last_opened_at=opened, acknowledged_at=None, escalated_at=None,
                                last_notified_at=opened, reminders=0, reopened=0), check_id)


def test_a_failed_check_opens_one_alert_on_its_decision_day_naming_the_check():
    decided = dt.datetime(2024, 11, 19, 18, 30, tzinfo=dt.UTC)  # 01:30 on the 20th in Vietnam
    [decision] = spot_check_decisions([check(at=decided)], [], NOW)
    assert isinstance(decision, OpenAlert)
    assert (decision.unit, decision.rule, decision.day) == (C01, Rule.SPOT_CHECK_FAILED, DAY)
    found = decision.detail["spot_check"]
    assert (found["id"], found["n"], found["d"], found["failures"]) == (7, 16, 2, 3)
    assert found["found"] == {"not_activated": 2, "not_guided": 1}
    assert found["estimate"] == {"rate": 0.77, "low": 0.5, "high": 0.92}


def test_the_alert_of_that_check_is_never_opened_again():
    assert spot_check_decisions([check()], [alert()], NOW) == []
    # Also once resolved (a unit that left and came back into the map is not re-announced).
    assert spot_check_decisions([check()], [alert(status="resolved")], NOW) == []


def test_passed_and_old_failures_open_nothing():
    assert spot_check_decisions([check(status=CheckStatus.PASSED)], [], NOW) == []
    old = NOW - LOOKBACK - dt.timedelta(minutes=1)
    assert spot_check_decisions([check(at=old)], [], NOW) == []
    recent = NOW - LOOKBACK + dt.timedelta(minutes=1)
    assert len(spot_check_decisions([check(at=recent)], [], NOW)) == 1


def test_a_later_passing_check_resolves_it():
    [decision] = spot_check_decisions([check(8, CheckStatus.PASSED)], [alert(7, day=DAY - dt.timedelta(days=2))],
                                      NOW)
    assert isinstance(decision, ResolveAlert) and decision.reason == "spot_check_passed"
    assert decision.detail["passed_check"]["id"] == 8


def test_a_newer_failure_on_another_day_supersedes_the_open_alert():
    old = alert(7, day=DAY - dt.timedelta(days=2))
    decisions = spot_check_decisions([check(8)], [old], NOW)
    assert {type(d) for d in decisions} == {OpenAlert, ResolveAlert}
    resolved = next(d for d in decisions if isinstance(d, ResolveAlert))
    assert resolved.reason == "spot_check_superseded" and resolved.alert is old.state


def test_a_second_failure_the_same_day_reopens_a_resolved_alert_but_leaves_an_open_one():
    [decision] = spot_check_decisions([check(9)], [alert(7, status="resolved")], NOW)
    assert isinstance(decision, ReopenAlert) and decision.detail["spot_check"]["id"] == 9
    assert spot_check_decisions([check(9)], [alert(7)], NOW) == []


def test_an_old_failure_keeps_its_open_alert():
    old = NOW - LOOKBACK - dt.timedelta(days=3)
    assert spot_check_decisions([check(at=old)], [alert(day=old.astimezone(LOCAL_TZ).date())], NOW) == []


def test_a_unit_out_of_the_map_is_not_announced_and_its_alert_resolves():
    assert spot_check_decisions([check()], [], NOW, in_map={"TH"}) == []
    [decision] = spot_check_decisions([check()], [alert()], NOW, in_map={"TH"})
    assert isinstance(decision, ResolveAlert) and decision.reason == "not_in_map"


def test_the_days_rules_leave_it_alone():
    """No day_ended, no escalation, no reminder: evaluate skips the rule's alerts."""
    state = alert(day=DAY - dt.timedelta(days=3)).state
    assert evaluate([], {(C01, Rule.SPOT_CHECK_FAILED, state.day): state}, NOW, Policy()) == []


ORG = OrgRegistry([
    Unit("TH", "Tỉnh Thanh Hóa", UnitKind.PROVINCE, None),
    Unit("TH-03", "Huyện 3", UnitKind.DISTRICT, "TH"),
    Unit(C01, "Xã Đông Tiến", UnitKind.COMMUNE, "TH-03"),
    Unit("TH-03-C01-T1", "Tổ công tác 1", UnitKind.TEAM, C01),
])


def people(*units: str) -> dict[str, list[Recipient]]:
    return {u: [Recipient(i, u, f"Đầu mối {u}", "console", u)] for i, u in enumerate(units, start=1)}


def test_the_unit_and_the_level_above_hear_at_once():
    focal = people(C01, "TH-03", "TH")
    assert [p.unit for p in spot_check_recipients(C01, ORG, focal)] == [C01, "TH-03"]
    # A team has no focal point of its own: its commune and the district above it.
    assert [p.unit for p in spot_check_recipients("TH-03-C01-T1", ORG, focal)] == [C01, "TH-03"]
    # Nobody on record for the commune: the district and the province.
    assert [p.unit for p in spot_check_recipients(C01, ORG, people("TH-03", "TH"))] == ["TH-03", "TH"]


def test_the_message_names_the_check_its_rule_findings_and_estimate():
    facts = AlertFacts(5, ORG.get(C01), Rule.SPOT_CHECK_FAILED, DAY, {"spot_check": check().detail()},
                       tuple(ORG.chain(C01)[1:]))
    subject, body, payload = compose(facts, "alert", "https://x/ack")
    assert "không đạt kiểm tra xác suất" in subject
    assert "#7" in body and "3 không đạt trên 13" in body and "mẫu 16, đạt khi không quá 2" in body
    assert "Chưa kích hoạt: 2" in body and "Cán bộ được ghi không hướng dẫn: 1" in body
    assert "77%" in body and "50%–92%" in body
    assert payload["rule"] == "spot_check_failed" and payload["detail"]["spot_check"]["id"] == 7
