"""The alert rules as pure functions: exact moments, hysteresis, follow-ups, quiet hours."""

from __future__ import annotations

import datetime as dt

import pytest

from tally06.contract.events import LOCAL_TZ
from tally06.domain.alert_rules import Rule
from tally06.domain.calendar import CAMPAIGN_HOURS, WorkingHours, working_hours_between
from tally06.domain.org import UnitKind
from tally06_notifier.rules import (
    AlertState,
    EscalateAlert,
    OpenAlert,
    Policy,
    RemindAlert,
    ReopenAlert,
    ResolveAlert,
    UnitDay,
    evaluate,
    follow_up_decision,
    is_quiet,
    missed_daily_decision,
    next_send_time,
    pace_decision,
    silent_decision,
)

DAY = dt.date(2024, 10, 25)
# Exact thresholds first; the allowance for chance has its own test.
POLICY = Policy(noise_z=0.0)


def at(hhmm: str, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm), LOCAL_TZ)


def team(done: int = 0, target: int = 40, last_seen: dt.datetime | None = None, **kw) -> UnitDay:
    return UnitDay(code=kw.get("code", "TH-03-C01-T1"), kind=kw.get("kind", UnitKind.TEAM),
                   parent=kw.get("parent", "TH-03-C01"), day=kw.get("day", DAY),
                   hours=kw.get("hours", CAMPAIGN_HOURS), targets={"activated": target},
                   done={"activated": done}, last_seen=last_seen)


def alert(rule: Rule = Rule.PACE, status: str = "open", opened: str = "11:00", **kw) -> AlertState:
    return AlertState(id=kw.get("id", 7), unit="TH-03-C01-T1", rule=rule, day=kw.get("day", DAY), status=status,
                      last_opened_at=at(opened), acknowledged_at=kw.get("acked"), escalated_at=kw.get("escalated"),
                      last_notified_at=kw.get("notified", at(opened)), reminders=kw.get("reminders", 0), reopened=0)


# 12:00 is 4.5 of 14.5 working hours: 40 × 4.5/14.5 = 12.41 expected; behind below 9.93.
@pytest.mark.parametrize(("done", "behind"), [(9, True), (10, False), (13, False)])
def test_pace_alert_opens_below_the_tolerance(done, behind):
    decision = pace_decision(team(done), None, at("12:00"), POLICY)
    assert isinstance(decision, OpenAlert) is behind
    if behind:
        assert decision.detail["metrics"]["activated"] == {"target": 40, "actual": done, "expected": 12.4}


def test_a_shortfall_within_chance_does_not_alert_small_teams():
    # 12:00, target 40: 12.41 expected; 9 is 27 % short but within 2·√12.41 = 7.05 of it.
    assert pace_decision(team(9), None, at("12:00"), Policy()) is None
    assert isinstance(pace_decision(team(5), None, at("12:00"), Policy()), OpenAlert)
    # A district's 1,241 expected: 2·√1241 = 70 is far inside the 20 % tolerance, which decides.
    assert isinstance(pace_decision(team(993, target=4000), None, at("12:00"), Policy()), OpenAlert)
    assert pace_decision(team(994, target=4000), None, at("12:00"), Policy()) is None


def test_no_pace_alert_before_a_quarter_of_the_day_or_outside_hours():
    # 11:00 is 3.5/14.5 = 24 % of the day: a team with nothing done is not judged yet.
    assert pace_decision(team(0), None, at("11:00"), POLICY) is None
    assert pace_decision(team(0), None, at("11:10"), POLICY) is not None
    assert pace_decision(team(0), None, at("06:00"), POLICY) is None
    assert pace_decision(team(0), None, at("22:30"), POLICY) is None


def test_pace_alert_resolves_only_past_the_hysteresis_margin():
    # At 12:00 expected 12.41: opens below 9.93, clears only at 12.41 × 0.9 = 11.17 or more.
    assert pace_decision(team(11), alert(), at("12:00"), POLICY) is None
    resolved = pace_decision(team(12), alert(), at("12:00"), POLICY)
    assert isinstance(resolved, ResolveAlert) and resolved.reason == "caught_up"


def test_a_resolved_pace_alert_reopens_the_same_day():
    decision = pace_decision(team(2), alert(status="resolved"), at("15:00"), POLICY)
    assert isinstance(decision, ReopenAlert)


def test_the_end_of_the_working_day_ends_pace_alerts():
    decision = pace_decision(team(0), alert(), at("22:00"), POLICY)
    assert isinstance(decision, ResolveAlert) and decision.reason == "day_ended"


def test_working_hours_of_the_unit_move_expectations():
    late_shift = WorkingHours(dt.time(13, 0), dt.time(21, 0))
    assert pace_decision(team(0, hours=late_shift), None, at("12:00"), POLICY) is None
    # 15:00 is 2/8 = 25 % of its day: 10 expected, 0 done.
    assert isinstance(pace_decision(team(0, hours=late_shift), None, at("15:00"), POLICY), OpenAlert)


def test_silent_counts_working_hours_of_today_only():
    assert working_hours_between(at("21:00", DAY - dt.timedelta(days=1)), at("09:30")) == 2.0
    assert working_hours_between(at("10:00"), at("12:30")) == 2.5
    assert working_hours_between(at("06:00"), at("07:00")) == 0.0
    assert silent_decision(team(5, last_seen=at("08:00")), None, at("09:59"), POLICY) is None
    opened = silent_decision(team(5, last_seen=at("08:00")), None, at("10:00"), POLICY)
    assert isinstance(opened, OpenAlert) and opened.detail["silent_hours"] == 2.0


def test_silent_alert_resolves_when_the_team_is_heard_from():
    open_alert = alert(Rule.SILENT, opened="10:00")
    assert silent_decision(team(5, last_seen=at("08:00")), open_alert, at("11:00"), POLICY) is None
    heard = silent_decision(team(6, last_seen=at("10:40")), open_alert, at("11:00"), POLICY)
    assert isinstance(heard, ResolveAlert) and heard.reason == "heard_from"


def test_teams_without_a_target_today_are_never_silent():
    assert silent_decision(team(0, target=0), None, at("15:00"), POLICY) is None


def test_missed_daily_target_after_the_day_settled():
    assert missed_daily_decision(team(39), None, at("22:09"), POLICY) is None
    missed = missed_daily_decision(team(39), None, at("22:10"), POLICY)
    assert isinstance(missed, OpenAlert) and missed.detail == {"metrics": {"activated": {"target": 40, "actual": 39}}}
    assert missed_daily_decision(team(40), None, at("22:10"), POLICY) is None
    late = missed_daily_decision(team(40), alert(Rule.MISSED_DAILY, opened="22:10"), at("23:00"), POLICY)
    assert isinstance(late, ResolveAlert) and late.reason == "target_met_late"


def test_follow_ups_escalate_once_then_remind_at_a_bounded_interval():
    fresh = alert(opened="12:00")
    assert follow_up_decision(fresh, at("12:59"), POLICY) is None
    assert isinstance(follow_up_decision(fresh, at("13:00"), POLICY), EscalateAlert)
    escalated = alert(opened="12:00", escalated=at("13:00"))
    assert follow_up_decision(escalated, at("13:59"), POLICY) is None
    assert follow_up_decision(escalated, at("14:00"), POLICY) == RemindAlert(escalated, 1)
    assert follow_up_decision(alert(opened="12:00", escalated=at("13:00"), reminders=2), at("20:00"), POLICY) is None


def test_acknowledged_resolved_and_quiet_alerts_get_no_follow_up():
    assert follow_up_decision(alert(opened="12:00", acked=at("12:05")), at("16:00"), POLICY) is None
    assert follow_up_decision(alert(status="resolved", opened="12:00"), at("16:00"), POLICY) is None
    assert follow_up_decision(alert(Rule.MISSED_DAILY, opened="22:10"), at("23:30"), POLICY) is None
    missed = alert(Rule.MISSED_DAILY, opened="22:10", escalated=at("07:00", DAY + dt.timedelta(days=1)))
    assert follow_up_decision(missed, at("12:00", DAY + dt.timedelta(days=1)), POLICY) is None  # no reminders


def test_quiet_hours_hold_messages_until_morning():
    assert not is_quiet(at("22:29"), POLICY)
    assert is_quiet(at("22:30"), POLICY) and is_quiet(at("03:00"), POLICY)
    assert next_send_time(at("23:00"), POLICY) == at("07:00", DAY + dt.timedelta(days=1))
    assert next_send_time(at("05:00"), POLICY) == at("07:00")
    assert next_send_time(at("12:00"), POLICY) == at("12:00")


def test_evaluate_is_idempotent_once_decisions_are_applied():
    units = [team(0)]
    first = evaluate(units, {}, at("15:00"), POLICY)
    assert {type(d) for d in first} == {OpenAlert}
    applied = {(d.unit, d.rule, d.day): alert(d.rule, opened="15:00", id=i) for i, d in enumerate(first)}
    assert evaluate(units, applied, at("15:00"), POLICY) == []


def test_yesterdays_pace_alerts_end_and_missed_days_expire_after_a_day():
    old_pace = alert(Rule.PACE, day=DAY - dt.timedelta(days=1))
    missed_yesterday = alert(Rule.MISSED_DAILY, day=DAY - dt.timedelta(days=1), id=8, acked=at("08:00"))
    missed_before = alert(Rule.MISSED_DAILY, day=DAY - dt.timedelta(days=2), id=9)
    decisions = evaluate([], {("a", Rule.PACE, old_pace.day): old_pace,
                              ("a", Rule.MISSED_DAILY, missed_yesterday.day): missed_yesterday,
                              ("a", Rule.MISSED_DAILY, missed_before.day): missed_before}, at("09:00"), POLICY)
    assert decisions == [ResolveAlert(old_pace, "day_ended", {}), ResolveAlert(missed_before, "day_ended", {})]


def test_every_unit_with_a_unit_above_is_judged_whatever_its_kind():
    # A village under a commune, a province under a country: both behind, both alerted. The
    # country (a root) is behind too, but nobody above it could hear the alert.
    units = [team(0, code="TH-X001-V1", kind=UnitKind.VILLAGE, parent="TH-X001"),
             team(0, code="TH", kind=UnitKind.PROVINCE, parent="VN"),
             team(0, code="VN", kind=UnitKind.COUNTRY, parent=None),
             team(0, code="TH", kind=UnitKind.PROVINCE, parent=None, day=DAY - dt.timedelta(days=1))]
    opened = {(d.unit, d.rule) for d in evaluate(units, {}, at("15:00"), POLICY)}
    assert opened == {("TH-X001-V1", Rule.PACE), ("TH", Rule.PACE)}


def test_an_open_alert_of_a_unit_the_live_map_no_longer_has_resolves():
    # TH-03 was a district of the 2023 map; the two-tier map dissolved it.
    gone, kept = alert(id=1), alert(id=2)
    gone = AlertState(**{**gone.__dict__, "unit": "TH-03"})
    decisions = evaluate([], {("TH-03", Rule.PACE, DAY): gone, ("TH-03-C01-T1", Rule.PACE, DAY): kept},
                         at("11:30"), POLICY, in_map={"TH", "TH-03-C01", "TH-03-C01-T1"})
    assert decisions == [ResolveAlert(gone, "not_in_map", {})]
