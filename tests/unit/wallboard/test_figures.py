"""A unit's figures from counters and targets, with exact figures worked out by hand."""

import datetime as dt
from decimal import Decimal

from tally06.domain.org import Unit, UnitKind
from tally06_wallboard.figures import Plan, UnitCounts, counts_from_rows, unit_figures
from tally06_wallboard.targets import Goal

ICT = dt.timezone(dt.timedelta(hours=7))
TODAY = dt.date(2026, 11, 20)
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=ICT)  # 7.5 h of the 14.5 h working day
PLAN = Plan(deadline=dt.date(2026, 11, 29))  # 10 days left, today included
DISTRICT = Unit("TH-03", "Thành phố Sầm Sơn", UnitKind.DISTRICT, "TH")


def row(unit, day, metric, credited, claims=0):
    return {"unit": unit, "day": day, "metric": metric, "credited": credited, "claims": claims}


def test_counts_from_read_model_rows():
    daily = [
        row("U", TODAY, "activated_l1", 20, 1), row("U", TODAY, "activated_l2", 10), row("U", TODAY, "installed", 50, 2),
        row("U", TODAY - dt.timedelta(days=1), "activated_l2", 7),
        row("U", TODAY - dt.timedelta(days=1), "installed", 99),      # not an activation
        row("U", TODAY - dt.timedelta(days=3), "activated_l1", 5, 4),
        row("U", TODAY - dt.timedelta(days=8), "activated_l1", 1000),  # outside the 7 days
        row("V", TODAY - dt.timedelta(days=7), "activated_l1", 3),
    ]
    totals = [{"unit": "U", "metric": "activated_l1", "credited": 400, "claims": 5},
              {"unit": "U", "metric": "activated_l2", "credited": 100, "claims": 1}]
    counts = counts_from_rows(daily, totals, TODAY, 7)
    u = counts["U"]
    assert u.today == {"activated_l1": 20, "activated_l2": 10, "installed": 50}
    assert (u.activated_today, u.today_claims) == (30, 3)
    assert (u.activated_total, u.total_claims) == (500, 6)
    assert u.recent == (0, 0, 0, 0, 5, 0, 7)  # oldest (day -7) first
    assert counts["V"].recent == (3, 0, 0, 0, 0, 0, 0)
    assert counts["V"].activated_total == 0


def test_figures_of_a_district():
    counts = UnitCounts(
        today={"activated_l1": 20, "activated_l2": 10, "installed": 44},
        today_claims=2,
        total={"activated_l1": 300, "activated_l2": 100, "installed": 900},
        total_claims=9,
        recent=(10, 20, 30, 40, 50, 60, 70),
    )
    f = unit_figures(DISTRICT, counts, Goal(1000, 700, 300), 100, NOW, PLAN)
    assert f.today.day == TODAY
    assert (f.today.activated, f.today.target, f.today.completion_pct) == (30, 100, Decimal("30.00"))
    # 100 × 7.5 / 14.5 = 51.72 expected by 15:00; 30 is more than 20 % below it.
    assert f.today.expected_by_now == 51.72
    assert f.today.share_of_working_day == 0.5172
    assert f.today.behind is True
    c = f.campaign
    assert c.activated.model_dump() == {"total": 400, "level1": 300, "level2": 100}
    assert c.completion_pct.model_dump() == {"total": Decimal("40.00"), "level1": Decimal("42.86"), "level2": Decimal("33.33")}
    assert c.remaining.model_dump() == {"total": 600, "level1": 400, "level2": 200}
    assert (c.days_left, c.required_daily_rate) == (10, 60)  # 600 over 10 days
    assert c.run_rate == 40.0
    assert c.forecast_completion == dt.date(2026, 12, 5)  # 600 / 40 = 15 days after today
    assert (f.duplicate_claims.today, f.duplicate_claims.total) == (2, 9)
    assert f.as_of == NOW


def test_a_unit_without_targets_is_never_behind_and_has_no_forecast():
    f = unit_figures(DISTRICT, UnitCounts(today={"activated_l1": 3}), None, None, NOW, PLAN)
    assert (f.today.target, f.today.completion_pct, f.today.expected_by_now, f.today.behind) == (None, None, None, False)
    assert (f.campaign.target, f.campaign.completion_pct, f.campaign.remaining) == (None, None, None)
    assert (f.campaign.required_daily_rate, f.campaign.forecast_completion) == (None, None)
    assert f.campaign.activated.total == 0


def test_after_the_deadline_everything_left_is_due_at_once():
    late = Plan(deadline=dt.date(2023, 6, 30))
    f = unit_figures(DISTRICT, UnitCounts(total={"activated_l2": 10}), Goal(100, 50, 50), 5, NOW, late)
    assert (f.campaign.days_left, f.campaign.required_daily_rate) == (0, 90)
    assert f.campaign.forecast_completion is None  # no run rate, no forecast


def test_early_in_the_day_nobody_is_behind():
    morning = dt.datetime(2026, 11, 20, 9, 0, tzinfo=ICT)  # a tenth of the working day
    f = unit_figures(DISTRICT, UnitCounts(), Goal(10, 5, 5), 100, morning, PLAN)
    assert f.today.behind is False
    assert f.today.expected_by_now == 10.34


def test_a_target_met_shows_over_100_and_nothing_remaining():
    f = unit_figures(DISTRICT, UnitCounts(total={"activated_l1": 120, "activated_l2": 5}), Goal(100, 90, 10), None, NOW, PLAN)
    assert f.campaign.completion_pct.total == Decimal("125.00")
    assert f.campaign.remaining.model_dump() == {"total": 0, "level1": 0, "level2": 5}
    assert (f.campaign.required_daily_rate, f.campaign.forecast_completion) == (0, TODAY)


def test_pace_follows_the_units_own_working_hours():
    from tally06.domain.calendar import WorkingHours

    mornings = WorkingHours(dt.time(8, 0), dt.time(12, 0))
    at_ten = dt.datetime(2026, 11, 20, 10, 0, tzinfo=ICT)
    f = unit_figures(DISTRICT, UnitCounts(today={"activated_l2": 30}), None, 80, at_ten, PLAN, mornings)
    assert (f.today.share_of_working_day, f.today.expected_by_now) == (0.5, 40.0)
    assert f.today.behind is True  # 30 < 40 × 0.8


def test_a_forecast_beyond_the_calendar_is_none():
    trickle = UnitCounts(recent=(0, 0, 0, 0, 0, 0, 1))
    f = unit_figures(DISTRICT, trickle, Goal(3_243_976, 2_842_865, 401_111), None, NOW, PLAN)
    assert f.campaign.run_rate == 0.14
    assert f.campaign.forecast_completion is None
