import datetime as dt
from decimal import Decimal

import pytest

from tally06.domain.calendar import CAMPAIGN_HOURS, Phase, WorkingHours, phase_for, share_of_working_day
from tally06.domain.pace import (
    PLAN70_PHASES,
    PLAN70_REMAINING,
    assess_pace,
    completion_pct,
    expected_progress,
    forecast_completion,
    remaining,
    required_daily_rate,
    run_rate,
    shortfall,
    still_behind,
)
from tally06.imports.reference import appendix1

UTC = dt.UTC
ICT = dt.timezone(dt.timedelta(hours=7))


def utc(hour: int, minute: int = 0, day: int = 25) -> dt.datetime:
    return dt.datetime(2024, 10, day, hour, minute, tzinfo=UTC)


# --- working day -----------------------------------------------------------------------------

def test_default_hours_are_the_campaign_hours():
    assert WorkingHours(dt.time(7, 30), dt.time(22, 0)) == CAMPAIGN_HOURS


@pytest.mark.parametrize(
    ("now", "share"),
    [
        (utc(17, 0, day=24), 0.0),   # 00:00 local on the 25th
        (utc(0, 0), 0.0),            # 07:00 local: before start
        (utc(0, 30), 0.0),           # 07:30 local: start
        (utc(7, 45), 0.5),           # 14:45 local: half of 14.5 h
        (utc(15, 0), 1.0),           # 22:00 local: end
        (utc(16, 59), 1.0),          # 23:59 local: after end
    ],
)
def test_share_of_working_day_in_local_time(now, share):
    assert share_of_working_day(now, CAMPAIGN_HOURS) == share


def test_midnight_utc_is_already_working_time_in_vietnam():
    # 00:30Z is 07:30 local: the day starts; 01:00Z (08:00 local) is already under way.
    assert share_of_working_day(utc(0, 30), CAMPAIGN_HOURS) == 0.0
    assert share_of_working_day(utc(1, 0), CAMPAIGN_HOURS) == pytest.approx(0.5 / 14.5)
    # The same instant written in another offset gives the same share.
    assert share_of_working_day(dt.datetime(2024, 10, 25, 8, 0, tzinfo=ICT)) == share_of_working_day(utc(1, 0))


def test_naive_time_is_refused():
    with pytest.raises(ValueError, match="aware"):
        share_of_working_day(dt.datetime(2024, 10, 25, 12, 0), CAMPAIGN_HOURS)


def test_hours_must_not_cross_midnight():
    with pytest.raises(ValueError):
        WorkingHours(dt.time(22, 0), dt.time(7, 30))


def test_expected_progress_and_shortfall():
    assert expected_progress(200, utc(7, 45), CAMPAIGN_HOURS) == 100.0
    assert expected_progress(200, utc(0, 0), CAMPAIGN_HOURS) == 0.0
    assert expected_progress(200, utc(16, 0), CAMPAIGN_HOURS) == 200.0
    assert shortfall(100.0, 60) == 40.0
    assert shortfall(100.0, 130) == 0.0


# --- completion and remaining ----------------------------------------------------------------

def test_completion_pct_appendix1_example():
    assert completion_pct(24193, 316749) == Decimal("7.64")


@pytest.mark.parametrize("row", appendix1(), ids=lambda r: f"{r.no:02d}")
def test_completion_pct_matches_appendix1_exactly(row):
    assert str(completion_pct(row.activated_total, row.target_total)) == row.completion_pct
    assert remaining(row.activated_total, row.target_total) == row.remaining


def test_appendix1_has_27_rows_and_province_total():
    rows = appendix1()
    assert len(rows) == 27
    done, target = sum(r.activated_total for r in rows), sum(r.target_total for r in rows)
    assert (done, target) == (137_881, 3_243_976)
    assert completion_pct(done, target) == Decimal("4.25")
    assert remaining(done, target) == 3_106_095


def test_completion_pct_rounds_half_up_and_keeps_two_decimals():
    assert completion_pct(1, 8) == Decimal("12.50")    # 12.5 exactly
    assert completion_pct(1, 16) == Decimal("6.25")    # 6.25 exactly
    assert completion_pct(1, 1600) == Decimal("0.06")  # 0.0625 → 0.06
    assert completion_pct(1, 2000) == Decimal("0.05")  # 0.05 exactly
    assert completion_pct(1, 4000) == Decimal("0.03")  # 0.025 → half up
    assert str(completion_pct(0, 10)) == "0.00"
    assert str(completion_pct(10, 10)) == "100.00"


def test_completion_pct_over_target_and_zero_target():
    assert completion_pct(150, 100) == Decimal("150.00")
    assert completion_pct(0, 0) == Decimal("100.00")
    assert completion_pct(5, 0) == Decimal("100.00")
    with pytest.raises(ValueError):
        completion_pct(-1, 10)


def test_remaining_is_never_negative():
    assert remaining(120, 100) == 0
    assert remaining(40, 100) == 60


# --- required rate: reference cases ----------------------------------------------------------

def test_sam_son_approved_not_activated_by_2024_11_30():
    # 2024-10-25 … 2024-11-30 inclusive = 37 days; 3,935 / 37 = 106.35 → 107
    assert required_daily_rate(3_935, dt.date(2024, 10, 25), dt.date(2024, 11, 30)) == 107


def test_sam_son_new_collections_by_2024_12_20():
    # 2024-10-25 … 2024-12-20 inclusive = 57 days; 16,050 / 57 = 281.58 → 282
    assert required_daily_rate(16_050, dt.date(2024, 10, 25), dt.date(2024, 12, 20)) == 282


def test_soc_trang_by_2023_11_30():
    done, target = 354_938, 654_392
    left = remaining(done, target)
    assert left == 299_454
    # 2023-10-23 … 2023-11-30 inclusive = 39 days; 299,454 / 39 = 7,678.3 → 7,679
    assert required_daily_rate(left, dt.date(2023, 10, 23), dt.date(2023, 11, 30)) == 7_679
    assert completion_pct(done, target) == Decimal("54.24")  # the press rounded to 54.2 %


def test_required_rate_without_today():
    # 2024-10-26 … 2024-11-30 = 36 days; 3,935 / 36 = 109.3 → 110
    assert required_daily_rate(3_935, dt.date(2024, 10, 25), dt.date(2024, 11, 30), include_today=False) == 110


def test_required_rate_edges():
    day = dt.date(2024, 11, 30)
    assert required_daily_rate(0, day, day) == 0
    assert required_daily_rate(-5, day, day) == 0
    assert required_daily_rate(37, day, day) == 37                       # last day: all of it
    assert required_daily_rate(37, day, day, include_today=False) == 37  # no day left
    assert required_daily_rate(37, day, dt.date(2024, 11, 1)) == 37      # deadline passed
    assert required_daily_rate(74, dt.date(2024, 11, 29), day) == 37     # exact division


# --- run rate and forecast -------------------------------------------------------------------

def test_run_rate_is_the_mean():
    assert run_rate([100, 120, 80]) == 100.0
    assert run_rate([3, 4]) == 3.5
    assert run_rate([]) == 0.0


def test_forecast_completion():
    today = dt.date(2024, 10, 25)
    assert forecast_completion(1_000, 100.0, today) == dt.date(2024, 11, 4)
    assert forecast_completion(1_001, 100.0, today) == dt.date(2024, 11, 5)
    assert forecast_completion(1, 100.0, today) == dt.date(2024, 10, 26)
    assert forecast_completion(0, 0.0, today) == today
    assert forecast_completion(0, 100.0, today) == today


@pytest.mark.parametrize("rate", [0.0, -3.0, float("nan")])
def test_forecast_is_none_without_progress(rate):
    assert forecast_completion(500, rate, dt.date(2024, 10, 25)) is None


def test_forecast_meets_the_deadline_at_the_required_rate():
    today, deadline = dt.date(2024, 10, 25), dt.date(2024, 11, 30)
    rate = required_daily_rate(3_935, today, deadline, include_today=False)
    assert forecast_completion(3_935, rate, today) <= deadline
    assert forecast_completion(3_935, rate - 1, today) > deadline


# --- pace and hysteresis ---------------------------------------------------------------------

def test_assess_pace_on_and_behind():
    noon = utc(7, 45)  # half of the working day
    on_pace = assess_pace(200, 85, noon, CAMPAIGN_HOURS)
    assert (on_pace.expected, on_pace.shortfall, on_pace.share, on_pace.behind) == (100.0, 15.0, 0.5, False)
    behind = assess_pace(200, 79, noon, CAMPAIGN_HOURS)
    assert (behind.expected, behind.shortfall, behind.behind) == (100.0, 21.0, True)
    at_threshold = assess_pace(200, 80, noon, CAMPAIGN_HOURS)
    assert at_threshold.behind is False


def test_no_alert_early_in_the_day():
    early = utc(3, 0)  # 10:00 local: share 2.5 / 14.5 < 0.25
    status = assess_pace(200, 0, early, CAMPAIGN_HOURS)
    assert status.share < 0.25 and status.shortfall > 0 and status.behind is False
    later = utc(4, 30)  # 11:30 local: share 4 / 14.5 ≥ 0.25
    assert assess_pace(200, 0, later, CAMPAIGN_HOURS).behind is True


def test_nothing_expected_is_never_behind():
    assert assess_pace(0, 0, utc(15, 0), CAMPAIGN_HOURS).behind is False


def test_hysteresis_does_not_flap():
    noon = utc(7, 45)  # expected 100: behind below 80, clears at 90
    readings = [79, 81, 79, 85, 89, 90, 85, 81, 79]
    plain, held, previously = [], [], False
    for actual in readings:
        status = assess_pace(200, actual, noon, CAMPAIGN_HOURS)
        plain.append(status.behind)
        previously = still_behind(previously, status)
        held.append(previously)
    assert plain == [True, False, True, False, False, False, False, False, True]
    assert held == [True, True, True, True, True, False, False, False, True]


def test_not_previously_behind_follows_the_status():
    status = assess_pace(200, 79, utc(7, 45), CAMPAIGN_HOURS)
    assert still_behind(False, status) is True
    assert still_behind(False, assess_pace(200, 85, utc(7, 45), CAMPAIGN_HOURS)) is False


def test_alert_clears_at_the_start_of_a_new_day():
    midnight = utc(17, 0)  # 00:00 local on the 26th: nothing expected yet
    assert still_behind(True, assess_pace(200, 0, midnight, CAMPAIGN_HOURS)) is False


# --- phases ----------------------------------------------------------------------------------

def test_plan70_phases():
    one, two, three = PLAN70_PHASES
    assert (one.start, one.end, one.goal) == (dt.date(2023, 3, 24), dt.date(2023, 4, 30), 1_200_000)
    assert (two.start, two.end, two.goal) == (dt.date(2023, 5, 1), dt.date(2023, 5, 31), 1_000_000)
    assert (three.start, three.end) == (dt.date(2023, 6, 1), dt.date(2023, 6, 30))
    assert sum(r.remaining for r in appendix1()) == PLAN70_REMAINING
    assert one.goal + two.goal + three.goal == PLAN70_REMAINING


@pytest.mark.parametrize(
    ("day", "index"),
    [
        (dt.date(2023, 3, 23), None),
        (dt.date(2023, 3, 24), 0),
        (dt.date(2023, 4, 30), 0),
        (dt.date(2023, 5, 1), 1),
        (dt.date(2023, 5, 31), 1),
        (dt.date(2023, 6, 1), 2),
        (dt.date(2023, 6, 30), 2),
        (dt.date(2023, 7, 1), None),
    ],
)
def test_phase_for_boundaries(day, index):
    expected = None if index is None else PLAN70_PHASES[index]
    assert phase_for(day, PLAN70_PHASES) == expected


def test_phase_validation():
    with pytest.raises(ValueError):
        Phase("x", dt.date(2023, 5, 2), dt.date(2023, 5, 1), 10)
    with pytest.raises(ValueError):
        Phase("x", dt.date(2023, 5, 1), dt.date(2023, 5, 1), -1)
