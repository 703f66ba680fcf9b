"""The arithmetic of backlog goals, against figures worked out by hand in each test."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tally06.domain.backlog_goals import BacklogGoal, BacklogList, goal_target, progress, share_text

D = dt.date
SAM_SON = BacklogGoal("TH-03", BacklogList.APPROVED_NOT_ACTIVATED, Decimal(100), D(2024, 11, 30), 3_935,
                      D(2024, 10, 25))


def test_targets_round_up_exactly():
    assert goal_target(Decimal(100), 3_935) == 3_935
    # 80 % of 20,058 = 16,046.4: 16,046 would be 79.998 %, so 16,047.
    assert goal_target(Decimal(80), 20_058) == 16_047
    # 33.33 % of 3 = 0.9999 → 1; a float product could land on either side.
    assert goal_target(Decimal("33.33"), 3) == 1
    assert goal_target(Decimal(50), 4) == 2  # exact: not rounded up past it
    assert goal_target(Decimal("0.01"), 0) == 0


@pytest.mark.parametrize("share", [Decimal(0), Decimal(-5), Decimal("100.01"), Decimal("12.345"), Decimal("NaN")])
def test_shares_outside_0_to_100_or_finer_than_hundredths_are_refused(share):
    with pytest.raises(ValueError, match="share"):
        BacklogGoal("TH-03", BacklogList.NOT_REGISTERED, share, D(2024, 12, 20), 20_058, D(2024, 10, 25))


def test_a_goal_due_before_it_is_set_is_refused():
    with pytest.raises(ValueError, match="due"):
        BacklogGoal("TH-03", BacklogList.NOT_REGISTERED, Decimal(80), D(2024, 10, 24), 20_058, D(2024, 10, 25))


def test_share_text_prints_like_the_letters():
    assert [share_text(Decimal(s)) for s in ("100.00", "80.00", "62.50")] == ["100", "80", "62.5"]


def test_sam_son_on_the_day_of_the_letter():
    # 2024-10-25 → 2024-11-30 inclusive: 7 days of October + 30 of November = 37 days.
    assert SAM_SON.work_days == 37
    p = progress(SAM_SON, 0, D(2024, 10, 25))
    # 37 × 106 = 3,922 < 3,935 ≤ 37 × 107 = 3,959.
    assert (p.target, p.remaining, p.required_per_day) == (3_935, 3_935, 107)
    assert p.forecast_day is None and p.run_rate == 0.0 and not p.on_track


def test_sam_son_behind_pace():
    p = progress(SAM_SON, 1_500, D(2024, 11, 10))
    # Left: 2,435 over 11-10..11-30 = 21 days; 21 × 115 = 2,415 < 2,435 → 116 a day.
    assert (p.remaining, p.required_per_day) == (2_435, 116)
    # Worked 10-25..11-09 = 16 days → 93.75 a day; 2,435 / 93.75 = 25.97 → 26 days from 11-10 → 12-05.
    assert p.run_rate == 93.75
    assert p.forecast_day == D(2024, 12, 5)
    assert not p.on_track


def test_sam_son_on_track():
    p = progress(SAM_SON, 3_000, D(2024, 11, 20))
    # Left: 935 over 11-20..11-30 = 11 days = 85 exactly.
    assert (p.remaining, p.required_per_day) == (935, 85)
    # Worked 26 days → 115.38 a day; 935 / 115.38 = 8.1 → 9 days from 11-20 → 11-28.
    assert p.forecast_day == D(2024, 11, 28)
    assert p.on_track


def test_an_exact_quotient_is_not_rounded_up_past_it():
    goal = BacklogGoal("TH-03", BacklogList.APPROVED_NOT_ACTIVATED, Decimal(100), D(2024, 11, 30), 18,
                       D(2024, 10, 25))
    # 3 done over 11 days (10-25..11-04), 15 left: 15 × 11 / 3 = 55 days exactly, 11-05 the
    # first → 12-29 (15 / (3 / 11) in floats is 55.00000000000001, whose ceiling is 56).
    assert progress(goal, 3, D(2024, 11, 5)).forecast_day == D(2024, 11, 4) + dt.timedelta(days=55)


def test_a_goal_met_is_done_today_whatever_the_pace():
    p = progress(SAM_SON, 3_935, D(2024, 11, 2))
    assert (p.remaining, p.required_per_day, p.forecast_day, p.on_track) == (0, 0, D(2024, 11, 2), True)


def test_after_the_due_day_everything_left_is_due_at_once():
    p = progress(SAM_SON, 3_900, D(2024, 12, 3))
    assert (p.remaining, p.required_per_day) == (35, 35)
    # 3,900 over 39 days = 100 a day → 1 day from 12-03 → 12-03, after the due day.
    assert p.forecast_day == D(2024, 12, 3)
    assert not p.on_track


def test_not_registered_80_percent():
    goal = BacklogGoal("TH-03", BacklogList.NOT_REGISTERED, Decimal(80), D(2024, 12, 20), 20_058, D(2024, 10, 25))
    p = progress(goal, 0, D(2024, 10, 25))
    # 16,047 over 10-25..12-20 = 7 + 30 + 20 = 57 days; 57 × 281 = 16,017 < 16,047 → 282.
    assert (p.target, p.required_per_day) == (16_047, 282)


def test_negative_progress_is_refused():
    with pytest.raises(ValueError, match="done"):
        progress(SAM_SON, -1, D(2024, 11, 1))
