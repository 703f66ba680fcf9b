"""The low_confirmation rule: a unit whose judged claims the registry confirms too rarely."""

from __future__ import annotations

import datetime as dt

from tally06.contract.events import LOCAL_TZ
from tally06.domain.alert_rules import Rule
from tally06.domain.confirmation import LowConfirmation, confirmation_of
from tally06_notifier.rules import (
    AlertState,
    EscalateAlert,
    OpenAlert,
    Policy,
    ReopenAlert,
    ResolveAlert,
    UnitConfirmation,
    evaluate,
    follow_up_decision,
    heard_from,
    low_confirmation_decision,
)

DAY = dt.date(2024, 11, 20)
POLICY = Policy(low_confirmation=LowConfirmation(threshold=0.8, min_judged=20))


def at(hhmm: str, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), LOCAL_TZ)


def unit(confirmed: int, unconfirmed: int, pending: int = 0, code: str = "TH-03-C01",
         parent: str | None = "TH-03", day: dt.date = DAY) -> UnitConfirmation:
    counters = {"activated_l2": confirmed + unconfirmed + pending, "confirmed_l2": confirmed,
                "unconfirmed_l2": unconfirmed, "pending_l2": pending}
    return UnitConfirmation(code, parent, day, confirmation_of(counters))


def alert(status: str = "open", day: dt.date = DAY, **kw) -> AlertState:
    return AlertState(id=9, unit="TH-03-C01", rule=Rule.LOW_CONFIRMATION, day=day, status=status,
                      last_opened_at=kw.get("opened", at("09:00", day)), acknowledged_at=None, escalated_at=None,
                      last_notified_at=kw.get("opened", at("09:00", day)), reminders=0, reopened=0)


def test_opens_below_the_threshold_with_the_figures():
    # 30 of 50 judged claims confirmed (60 %); the 40 pending ones are not judged.
    decision = low_confirmation_decision(unit(30, 20, pending=40), None, at("09:00"), POLICY)
    assert isinstance(decision, OpenAlert)
    assert (decision.unit, decision.rule, decision.day) == ("TH-03-C01", Rule.LOW_CONFIRMATION, DAY)
    assert decision.detail["confirmation"] == {"confirmed": 30, "judged": 50, "pending": 40, "claimed": 90,
                                               "rate": 0.6, "threshold": 0.8, "min_judged": 20}


def test_quiet_above_the_threshold_or_with_too_few_judged_claims():
    assert low_confirmation_decision(unit(45, 5), None, at("09:00"), POLICY) is None  # 90 %
    assert low_confirmation_decision(unit(2, 17, pending=300), None, at("09:00"), POLICY) is None  # 19 judged
    assert low_confirmation_decision(unit(0, 0, pending=300), None, at("09:00"), POLICY) is None  # no rate


def test_resolves_when_the_rate_recovers_and_reopens_when_it_falls_again():
    recovered = low_confirmation_decision(unit(80, 20), alert(), at("15:00"), POLICY)  # exactly 80 %
    assert isinstance(recovered, ResolveAlert) and recovered.reason == "confirmation_recovered"
    again = low_confirmation_decision(unit(70, 30), alert(status="resolved"), at("16:00"), POLICY)
    assert isinstance(again, ReopenAlert)
    assert low_confirmation_decision(unit(70, 30), alert(), at("16:00"), POLICY) is None  # already open


def test_evaluate_judges_every_unit_with_a_unit_above_it_today():
    units = [unit(10, 20, code="TH-03-C01"), unit(10, 20, code="TH", parent=None),
             unit(50, 0, code="TH-03-C02"), unit(10, 20, code="TH-03-C03", day=DAY - dt.timedelta(days=1))]
    decisions = evaluate([], {}, at("09:00"), POLICY, confirmations=units)
    assert [(d.unit, d.rule) for d in decisions if isinstance(d, OpenAlert)] == [("TH-03-C01", Rule.LOW_CONFIRMATION)]


def test_yesterdays_alert_ends_with_the_day_and_todays_opens():
    old = alert(day=DAY - dt.timedelta(days=1))
    decisions = evaluate([], {("TH-03-C01", Rule.LOW_CONFIRMATION, old.day): old}, at("07:30"), POLICY,
                         confirmations=[unit(10, 20)])
    assert any(isinstance(d, OpenAlert) and d.day == DAY for d in decisions)
    assert any(isinstance(d, ResolveAlert) and d.alert.id == 9 and d.reason == "day_ended" for d in decisions)


def test_escalated_but_never_reminded():
    assert isinstance(follow_up_decision(alert(opened=at("09:00")), at("10:05"), POLICY), EscalateAlert)
    escalated = AlertState(**{**alert().__dict__, "escalated_at": at("10:05")})
    assert follow_up_decision(escalated, at("15:00"), POLICY) is None


def test_registry_counters_are_not_a_team_heard_from():
    assert heard_from({"unit": "T1", "daily": {"activated_l2": {}}, "total": {"activated_l2": {}}})
    assert not heard_from({"unit": "T1", "daily": {"confirmed_l2": {}, "unconfirmed_l1": {}},
                           "total": {"confirmed_l2": {}}})
    assert heard_from({"unit": "T1", "daily": {"confirmed_l2": {}}, "total": {"installed": {}}})
