"""Targets, pace and forecasts: the arithmetic behind "are we on track?".

The notifier raises an alert when a team falls behind its daily target, and the wallboard shows
completion, the rate still needed and when the work will be done at the current rate. Both must
agree to the citizen, so the rules live here once, as pure functions: nothing reads the clock
or a file, every moment and date comes in as an argument, which keeps them easy to test against
the figures the provincial documents publish.

Conventions, in one place:

* Teams work 07:30–22:00 every day, weekends included (Sầm Sơn letter), in local time
  (Asia/Ho_Chi_Minh, no daylight-saving time). A daily target is expected to grow linearly over
  those hours.
* Deadlines are inclusive and counted in calendar days, since teams work every day.
* Percentages are rounded half-up to 2 decimals, as Appendix I of plan 70 prints them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from tally06.domain.calendar import CAMPAIGN_HOURS, Phase, WorkingHours, share_of_working_day


def expected_progress(daily_target: int, now: dt.datetime, hours: WorkingHours = CAMPAIGN_HOURS) -> float:
    """What a team should have done by ``now`` if it works evenly towards its daily target."""
    return daily_target * share_of_working_day(now, hours)


def shortfall(expected: float, actual: float) -> float:
    """How far actual results are below the expected ones; 0 when on or ahead of pace."""
    return max(0.0, expected - actual)


def completion_pct(done: int, target: int) -> Decimal:
    """``done / target`` in percent, rounded half-up to 2 decimals (e.g. 24193/316749 → 7.64).

    Computed in integers so a value that sits exactly on a half cent rounds the way the
    printed tables do, without float or limited-precision surprises. Over-achievement is shown
    as more than 100, not capped. A unit with a target of 0 has nothing left to do, so it is
    complete: 100.00.
    """
    if done < 0 or target < 0:
        raise ValueError("done and target must not be negative")
    if target == 0:
        return Decimal("100.00")
    hundredths = (2 * done * 10_000 + target) // (2 * target)  # half-up for non-negatives
    return Decimal(hundredths).scaleb(-2)


def remaining(done: int, target: int) -> int:
    """Citizens still to reach the target; never negative once the target is exceeded."""
    return max(0, target - done)


def required_daily_rate(remaining: int, today: dt.date, deadline: dt.date, include_today: bool = True) -> int:
    """Whole citizens per day needed to finish ``remaining`` by the end of ``deadline``.

    Days are calendar days (teams work every day) up to and including the deadline. With
    ``include_today`` today counts as a working day too, as the provincial letters count it
    (Sầm Sơn, 2024-10-25 → 2024-11-30: 37 days); without it the work starts tomorrow, which
    suits a figure computed late in the day. The rate is rounded up: a rate that is rounded down
    misses the deadline. When no day is left the whole remainder is due at once, so the
    wallboard still shows a number instead of failing.
    """
    if remaining <= 0:
        return 0
    days = (deadline - today).days + (1 if include_today else 0)
    if days <= 0:
        return remaining
    return -(-remaining // days)


def run_rate(daily_counts: Sequence[int]) -> float:
    """Mean of the recent daily results given; 0.0 without any, which means "no pace known"."""
    if not daily_counts:
        return 0.0
    return sum(daily_counts) / len(daily_counts)


def forecast_completion(remaining: int, run_rate: float, today: dt.date) -> dt.date | None:
    """The day the work is done if the run rate holds; ``None`` if it never would be.

    Counting starts tomorrow: ``remaining`` is the state now and the run rate measures whole
    days, so it matches ``required_daily_rate(..., include_today=False)``. Nothing remaining
    means done today.
    """
    if remaining <= 0:
        return today
    if not run_rate > 0:  # also catches NaN
        return None
    return today + dt.timedelta(days=math.ceil(remaining / run_rate))


@dataclass(frozen=True)
class PaceStatus:
    """A team's standing against its daily target at one moment, as the notifier judges it."""

    daily_target: int
    actual: int
    expected: float
    shortfall: float
    share: float
    tolerance: float
    behind: bool


def assess_pace(
    daily_target: int,
    actual_today: int,
    now: dt.datetime,
    hours: WorkingHours = CAMPAIGN_HOURS,
    tolerance: float = 0.2,
    min_share: float = 0.25,
) -> PaceStatus:
    """Whether a team is behind its daily target at ``now``.

    Behind means more than ``tolerance`` below the expected progress. Early in the day a few
    citizens make a large relative difference, so no team is behind before ``min_share`` of
    the working day has passed: alerts at 08:00 would be noise.
    """
    if not 0 <= tolerance < 1:
        raise ValueError("tolerance must be in [0, 1)")
    if not 0 <= min_share <= 1:
        raise ValueError("min_share must be in [0, 1]")
    share = share_of_working_day(now, hours)
    expected = daily_target * share
    behind = share >= min_share and actual_today < expected * (1 - tolerance)
    return PaceStatus(
        daily_target=daily_target,
        actual=actual_today,
        expected=expected,
        shortfall=shortfall(expected, actual_today),
        share=share,
        tolerance=tolerance,
        behind=behind,
    )


def still_behind(previously_behind: bool, status: PaceStatus, recover_margin: float = 0.1) -> bool:
    """Whether an open "behind" alert stays open, with hysteresis so it does not flap.

    A team hovering at the threshold would otherwise raise and resolve an alert with every
    citizen. Once behind, it only clears when actual results reach
    ``expected × (1 − tolerance + recover_margin)``. A new day starts with nothing expected, so
    an alert of yesterday clears at midnight.
    """
    if recover_margin < 0:
        raise ValueError("recover_margin must not be negative")
    if not previously_behind:
        return status.behind
    return status.actual < status.expected * (1 - status.tolerance + recover_margin)


# Province-wide accounts left to activate in Appendix I of plan 70 (baseline 2023-02-08).
PLAN70_REMAINING = 3_106_095


# Plan 70/KH-UBND of Thanh Hóa: phase goals are new activations within each phase. Phase 3 is
# "the whole remainder"; without later data, that is the Appendix I remainder less the goals of
# phases 1 and 2 (activations between the baseline and 2023-03-24 are not known here).
PLAN70_PHASES: tuple[Phase, ...] = (
    Phase("Giai đoạn 1", dt.date(2023, 3, 24), dt.date(2023, 4, 30), 1_200_000),
    Phase("Giai đoạn 2", dt.date(2023, 5, 1), dt.date(2023, 5, 31), 1_000_000),
    Phase("Giai đoạn 3", dt.date(2023, 6, 1), dt.date(2023, 6, 30), PLAN70_REMAINING - 2_200_000),
)
