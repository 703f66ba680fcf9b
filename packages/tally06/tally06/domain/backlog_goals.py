"""Backlog goals: a share of a list of citizens, reached by a day, judged from the registry.

The campaign's own targets are written against lists of people, not counts of claims (Sầm Sơn,
2024-10-25: "activate 100 % of the 3,935 approved but not activated by 2024-11-30"). A goal
names a unit, a list, a share and a due day; its baseline is frozen when it is set, so later
extracts move its progress and never its denominator (docs/backlog-goals.md has the reasons).

Pure, like ``domain/pace.py`` whose rules it reuses: the day the figures are judged on comes in
as an argument. Conventions:

* Work days run from the day the goal is set through the due day, both included, every day
  (teams work weekends too): Sầm Sơn's 2024-10-25 → 2024-11-30 is 37 days.
* ``done`` is what the registry shows on ``today`` (its extracts are of earlier moments), so the
  days worked so far are the days before today and today's work is still to come.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from tally06.domain.pace import remaining, required_daily_rate


class BacklogList(enum.StrEnum):
    """The registry lists a goal may be set on."""

    # In the registry, approved, the code not yet entered: the frozen baseline names them.
    APPROVED_NOT_ACTIVATED = "approved_not_activated"
    # Not in the registry at all, so nobody can be named: the baseline is a count from the
    # population data, given by the user (Sầm Sơn: 20,058).
    NOT_REGISTERED = "not_registered"


MAX_SHARE = Decimal(100)


def check_share(share: Decimal) -> Decimal:
    """A share in percent, above 0 and at most 100, with at most 2 decimals."""
    if not share.is_finite() or not Decimal(0) < share <= MAX_SHARE:
        raise ValueError("share must be above 0 and at most 100 (percent)")
    if share != share.quantize(Decimal("0.01")):
        raise ValueError("share has at most 2 decimals")
    return share


def share_text(share: Decimal) -> str:
    """A share as the letters print it: 100, 80, 62.5 (no trailing zeros, no exponent)."""
    return format(share.normalize(), "f")


def goal_target(share: Decimal, baseline: int) -> int:
    """Citizens the goal asks for: ``share`` % of the baseline, rounded up (exactly, not in float).

    Rounded up because a goal of "80 %" is not met by 79.99 %: 80 % of 20,058 is 16,046.4, so
    16,047 citizens. (Sầm Sơn's letter prints "at least 16,050", a rounder figure; a unit that
    wants that number sets the share that gives it.)
    """
    if baseline < 0:
        raise ValueError("baseline must not be negative")
    exact = Fraction(share) * baseline / 100
    return -(-exact.numerator // exact.denominator)


@dataclass(frozen=True)
class BacklogGoal:
    """A goal as set: the baseline is the size of the list on ``set_on``, frozen."""

    unit: str
    list: BacklogList
    share: Decimal
    due: dt.date
    baseline: int
    set_on: dt.date

    def __post_init__(self) -> None:
        check_share(self.share)
        if self.baseline < 0:
            raise ValueError("baseline must not be negative")
        if self.due < self.set_on:
            raise ValueError("a goal must not be due before the day it is set")

    @property
    def target(self) -> int:
        return goal_target(self.share, self.baseline)

    @property
    def work_days(self) -> int:
        """Days from setting to the due day, both included."""
        return (self.due - self.set_on).days + 1


@dataclass(frozen=True)
class GoalProgress:
    """A goal judged on one day."""

    goal: BacklogGoal
    today: dt.date
    done: int
    target: int
    remaining: int
    # Whole citizens per day, today included, to finish by the end of the due day.
    required_per_day: int
    # Citizens per day so far (done over the days worked since the goal was set); 0.0: unknown.
    run_rate: float
    # The day the goal is met if the run rate holds; None while no pace is known.
    forecast_day: dt.date | None
    on_track: bool


def days_worked(set_on: dt.date, today: dt.date) -> int:
    """Whole days of work behind ``done``: from the setting day up to yesterday."""
    return max(0, (today - set_on).days)


def progress(goal: BacklogGoal, done: int, today: dt.date) -> GoalProgress:
    """Where a goal stands on ``today`` with ``done`` citizens counted by the registry.

    The required rate is ``pace.required_daily_rate`` with today counted, as the letters count
    days. The forecast is ``pace.forecast_completion``'s rule with the run rate since the goal
    was set (``done`` over the days worked), counting today as the first day still to work. It is
    worked in integers: 15 left at 3 per 11 days is exactly 55 days, and the float quotient
    (55.00000000000001) would round that up to 56. A goal met is on track and forecast for today; a goal not met is
    on track when its forecast is no later than the due day.
    """
    if done < 0:
        raise ValueError("done must not be negative")
    target = goal.target
    left = remaining(done, target)
    worked = days_worked(goal.set_on, today)
    rate = done / worked if worked else 0.0
    forecast: dt.date | None
    if left == 0:
        forecast = today
    elif done == 0 or worked == 0:
        forecast = None  # no pace known yet, as forecast_completion says for a rate of 0
    else:
        days_needed = -(-left * worked // done)
        forecast = today + dt.timedelta(days=days_needed - 1)
    return GoalProgress(
        goal=goal,
        today=today,
        done=done,
        target=target,
        remaining=left,
        required_per_day=required_daily_rate(left, today, goal.due, include_today=True),
        run_rate=rate,
        forecast_day=forecast,
        on_track=left == 0 or (forecast is not None and forecast <= goal.due),
    )
