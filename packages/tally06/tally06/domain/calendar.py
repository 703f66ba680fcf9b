"""The campaign calendar: working hours, phases and deadlines, per unit.

Teams work 07:30–22:00 local time every day unless their unit sets other hours; a unit without
hours or phases of its own follows its nearest ancestor's. Pure: every moment comes in as an
argument.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tally06.contract.events import LOCAL_TZ
from tally06.domain.org import OrgRegistry


@dataclass(frozen=True)
class WorkingHours:
    """The local hours in which teams work; the same every day of the week."""

    start: dt.time = dt.time(7, 30)
    end: dt.time = dt.time(22, 0)

    def __post_init__(self) -> None:
        # A shift across midnight would split one target over two campaign days.
        if not self.start < self.end:
            raise ValueError("working hours must start before they end on the same day")


CAMPAIGN_HOURS = WorkingHours()


def _seconds(t: dt.time) -> float:
    return t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1_000_000


def share_of_working_day(now: dt.datetime, hours: WorkingHours = CAMPAIGN_HOURS) -> float:
    """How much of today's working hours has passed at ``now``, from 0.0 to 1.0.

    ``now`` must be aware: servers run in UTC and 00:30 UTC is already 07:30 in Hà Nội, so a
    naive time would silently shift the whole day by seven hours.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    local = _seconds(now.astimezone(LOCAL_TZ).time())
    start, end = _seconds(hours.start), _seconds(hours.end)
    return min(1.0, max(0.0, (local - start) / (end - start)))


@dataclass(frozen=True)
class Phase:
    """A campaign phase and the new activations it must add, from ``start`` to ``end`` inclusive."""

    name: str
    start: dt.date
    end: dt.date
    goal: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("a phase must not end before it starts")
        if self.goal < 0:
            raise ValueError("a phase goal must not be negative")


def phase_for(day: dt.date, phases: Sequence[Phase]) -> Phase | None:
    """The phase a local day belongs to, or ``None`` before, between or after the phases."""
    return next((p for p in phases if p.start <= day <= p.end), None)


def working_hours_between(since: dt.datetime, now: dt.datetime, hours: WorkingHours = CAMPAIGN_HOURS) -> float:
    """Working hours of ``now``'s local day that passed after ``since`` (0 if ``since`` is later).

    Only today counts: a team that went quiet at 21:00 yesterday has been silent since 07:30
    today, not for ten hours, because nobody expected it to work overnight.
    """
    day_start = share_of_working_day(since, hours) if _same_local_day(since, now) else 0.0
    span = _seconds(hours.end) - _seconds(hours.start)
    return max(0.0, share_of_working_day(now, hours) - day_start) * span / 3600


def _same_local_day(a: dt.datetime, b: dt.datetime) -> bool:
    return a.astimezone(LOCAL_TZ).date() == b.astimezone(LOCAL_TZ).date()


def working_window(day: dt.date, hours: WorkingHours = CAMPAIGN_HOURS) -> tuple[dt.datetime, dt.datetime]:
    """The aware start and end of a local day's working hours."""
    return (dt.datetime.combine(day, hours.start, LOCAL_TZ), dt.datetime.combine(day, hours.end, LOCAL_TZ))


def phases_for(unit: str, phases: Mapping[str, Sequence[Phase]], org: OrgRegistry) -> Sequence[Phase]:
    """The unit's own phases, else its nearest ancestor's; empty when nobody above has any."""
    for code in org.ancestors(unit):
        if phases.get(code):
            return phases[code]
    return ()


def deadline_for(unit: str, phases: Mapping[str, Sequence[Phase]], org: OrgRegistry) -> dt.date | None:
    found = phases_for(unit, phases, org)
    return max(p.end for p in found) if found else None


@dataclass(frozen=True)
class UnitHours:
    unit_code: str
    hours: WorkingHours


def hours_for(unit_code: str, explicit: Mapping[str, WorkingHours], org: OrgRegistry) -> WorkingHours:
    """The hours of a unit: its own, else its nearest ancestor's, else the campaign's."""
    for code in org.ancestors(unit_code):
        if code in explicit:
            return explicit[code]
    return CAMPAIGN_HOURS
