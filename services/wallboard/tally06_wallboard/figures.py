"""A unit's figures from its counters and targets: the board's arithmetic. Pure.

The arithmetic itself lives in ``tally06.domain.pace`` (shared with the notifier, so a board and an
alert never disagree); this module only decides which counters and targets go in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tally06.contract.events import local_day
from tally06.domain.calendar import CAMPAIGN_HOURS, WorkingHours
from tally06.domain.confirmation import confirmation_of
from tally06.domain.metrics import ACTIVATED, BASES, FAMILIES
from tally06.domain.org import Unit
from tally06.domain.pace import (
    assess_pace,
    completion_pct,
    forecast_completion,
    remaining,
    required_daily_rate,
    run_rate,
)
from tally06_wallboard.schemas import (
    ByLevel,
    Campaign,
    Claims,
    PercentByLevel,
    Today,
    UnitFigures,
    UnitRef,
)
from tally06_wallboard.targets import Goal
from tally06_wallboard.trend import fill_days, whole_days_before


@dataclass(frozen=True)
class Plan:
    """What the figures are measured against besides targets."""

    deadline: dt.date
    run_rate_days: int = 7


@dataclass(frozen=True)
class UnitCounts:
    """A unit's counters as the read model holds them (credited counts, duplicate claims)."""

    today: Mapping[str, int] = field(default_factory=dict)
    today_claims: int = 0
    total: Mapping[str, int] = field(default_factory=dict)
    total_claims: int = 0
    # Activations per whole day of the run-rate window, oldest first; quiet days are 0.
    recent: tuple[int, ...] = ()

    @property
    def activated_today(self) -> int:
        return sum(self.today.get(m, 0) for m in ACTIVATED)

    @property
    def activated_total(self) -> int:
        return sum(self.total.get(m, 0) for m in ACTIVATED)

    def on_basis(self, basis: str) -> tuple[int, int]:
        """(cumulative, today's) count on a basis of ``BASES``: claimed or registry-confirmed.
        Confirmed counters sit on the claim's day, so "today's" are today's claims confirmed."""
        metrics = [m.value for m in FAMILIES[BASES[basis]]]
        return sum(self.total.get(m, 0) for m in metrics), sum(self.today.get(m, 0) for m in metrics)


def counts_from_rows(
    daily: Iterable[Mapping], totals: Iterable[Mapping], today: dt.date, run_rate_days: int
) -> dict[str, UnitCounts]:
    """Counters per unit from ``unit_daily`` rows (today and the run-rate window) and
    ``unit_total`` rows; units without rows are simply absent (all zero)."""
    first, last = whole_days_before(today, run_rate_days)
    todays: dict[str, dict[str, int]] = {}
    today_claims: dict[str, int] = {}
    per_day: dict[str, dict[dt.date, int]] = {}
    for row in daily:
        unit, day, metric = row["unit"], row["day"], row["metric"]
        if day == today:
            todays.setdefault(unit, {})[metric] = row["credited"]
            today_claims[unit] = today_claims.get(unit, 0) + row["claims"]
        elif first <= day <= last and metric in ACTIVATED:
            days = per_day.setdefault(unit, {})
            days[day] = days.get(day, 0) + row["credited"]
    total: dict[str, dict[str, int]] = {}
    total_claims: dict[str, int] = {}
    for row in totals:
        total.setdefault(row["unit"], {})[row["metric"]] = row["credited"]
        total_claims[row["unit"]] = total_claims.get(row["unit"], 0) + row["claims"]
    units = set(todays) | set(per_day) | set(total)
    return {
        unit: UnitCounts(
            today=todays.get(unit, {}),
            today_claims=today_claims.get(unit, 0),
            total=total.get(unit, {}),
            total_claims=total_claims.get(unit, 0),
            recent=tuple(v for _, v in fill_days(per_day.get(unit, {}), first, last)),
        )
        for unit in units
    }


def unit_ref(unit: Unit) -> UnitRef:
    return UnitRef(code=unit.code, name=unit.name, kind=unit.kind, parent_code=unit.parent_code)


def _today(counts: UnitCounts, daily_target: int | None, now: dt.datetime, hours: WorkingHours) -> Today:
    # The same judgement as the notifier's pace rule (same defaults), so a unit the board
    # shows as behind is the unit that got an alert.
    pace = assess_pace(daily_target or 0, counts.activated_today, now, hours)
    return Today(
        day=local_day(now),
        activated=counts.activated_today,
        target=daily_target,
        completion_pct=None if daily_target is None else completion_pct(counts.activated_today, daily_target),
        expected_by_now=None if daily_target is None else round(pace.expected, 2),
        share_of_working_day=round(pace.share, 4),
        # No target, nothing expected: a unit nobody set a target for is never "behind".
        behind=daily_target is not None and pace.behind,
        by_metric=dict(sorted(counts.today.items())),
    )


def _campaign(counts: UnitCounts, goal: Goal | None, today: dt.date, plan: Plan) -> Campaign:
    done = ByLevel(
        total=counts.activated_total,
        level1=counts.total.get("activated_l1", 0),
        level2=counts.total.get("activated_l2", 0),
    )
    registry = confirmation_of(counts.total)
    confirmed = ByLevel(total=registry.confirmed.total, level1=registry.confirmed.l1, level2=registry.confirmed.l2)
    found = registry.rate()
    share = None if found is None else round(float(found), 4)
    rate = run_rate(counts.recent)
    days_left = max(0, (plan.deadline - today).days + 1)
    if goal is None:
        return Campaign(target=None, activated=done, confirmed=confirmed, confirmation_rate=share,
                        completion_pct=None, remaining=None,
                        deadline=plan.deadline, days_left=days_left, required_daily_rate=None,
                        run_rate=round(rate, 2), run_rate_days=plan.run_rate_days, forecast_completion=None)
    left = ByLevel(total=remaining(done.total, goal.total), level1=remaining(done.level1, goal.level1),
                   level2=remaining(done.level2, goal.level2))
    return Campaign(
        target=ByLevel(total=goal.total, level1=goal.level1, level2=goal.level2),
        activated=done,
        confirmed=confirmed,
        confirmation_rate=share,
        completion_pct=PercentByLevel(
            total=completion_pct(done.total, goal.total),
            level1=completion_pct(done.level1, goal.level1),
            level2=completion_pct(done.level2, goal.level2),
        ),
        remaining=left,
        deadline=plan.deadline,
        days_left=days_left,
        required_daily_rate=required_daily_rate(left.total, today, plan.deadline),
        run_rate=round(rate, 2),
        run_rate_days=plan.run_rate_days,
        forecast_completion=_forecast(left.total, rate, today),
    )


def _forecast(left: int, rate: float, today: dt.date) -> dt.date | None:
    # A trickle against a province-sized target lands beyond year 9999: that is "never" too.
    try:
        return forecast_completion(left, rate, today)
    except OverflowError:
        return None


def unit_figures(
    unit: Unit, counts: UnitCounts, goal: Goal | None, daily_target: int | None, now: dt.datetime, plan: Plan,
    hours: WorkingHours = CAMPAIGN_HOURS,
) -> UnitFigures:
    return UnitFigures(
        unit=unit_ref(unit),
        today=_today(counts, daily_target, now, hours),
        campaign=_campaign(counts, goal, local_day(now), plan),
        duplicate_claims=Claims(today=counts.today_claims, total=counts.total_claims),
        as_of=now,
    )
