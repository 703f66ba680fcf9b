"""Field work of one team as a pure function of time and a seeded random source.

No clock is read and nothing is sent: ``events_between`` is told the interval and handed the
random source, so the same seed and the same calls give the same events, and tests can replay
a whole day in milliseconds. Citizens move through the real funnel:

* level 1: ``app_installed`` → ``account_activated`` level 1, usually in the same visit;
* level 2: ``registration_collected`` level 2 → ``application_approved`` level 2 (the police
  take hours to days) → ``account_activated`` level 2 when the team comes back.

Teams only work 07:30–22:00 local time, every day including weekends, so every event, follow-
ups included, falls in that window (and outside a silent team's quiet hours).
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from tally06.contract.events import LOCAL_TZ, SCHEMA_VERSION, EventType
from tally06.simulator.people import citizen as make_citizen
from tally06.simulator.plan import TeamPlan, TeamRole

WORK_START = dt.time(7, 30)
WORK_END = dt.time(22, 0)
WORK_SECONDS = 14.5 * 3600
# Citizens are easier to find at home early and after work; lunch is slow.
_PROFILE = (
    (dt.time(7, 30), 1.1), (dt.time(11, 30), 0.6), (dt.time(13, 30), 0.9),
    (dt.time(17, 30), 1.3), (dt.time(21, 0), 0.7),
)
_H = 3600.0


def _seconds(t: dt.time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


_BOUNDS = [_seconds(t) for t, _ in _PROFILE] + [_seconds(WORK_END)]
_MEAN_WEIGHT = sum((_BOUNDS[i + 1] - _BOUNDS[i]) * w for i, (_, w) in enumerate(_PROFILE)) / WORK_SECONDS
_MAX_WEIGHT = max(w for _, w in _PROFILE) / _MEAN_WEIGHT


def intensity(moment: dt.datetime) -> float:
    """Relative visit rate at a moment of the working day; averages 1 over 07:30–22:00."""
    local = moment.astimezone(LOCAL_TZ).time()
    weight = 0.0
    for start, w in _PROFILE:
        if local >= start:
            weight = w
    return weight / _MEAN_WEIGHT if is_working_time(moment) else 0.0


def is_working_time(moment: dt.datetime) -> bool:
    local = moment.astimezone(LOCAL_TZ).time()
    return WORK_START <= local < WORK_END


def local_iso(moment: dt.datetime) -> str:
    """RFC 3339 with the +07:00 offset a phone in Vietnam writes, to the second."""
    return moment.astimezone(LOCAL_TZ).isoformat(timespec="seconds")


def silent_window(plan: TeamPlan, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
    """The hours a silent team posts nothing on ``day`` (most days 2–6 hours), if any."""
    if plan.role is not TeamRole.SILENT:
        return None
    rng = random.Random(f"{plan.silence_seed}:{day.isoformat()}")
    if rng.random() >= 0.8:
        return None
    minutes = rng.randint(120, 360)
    start = dt.datetime.combine(day, WORK_START, LOCAL_TZ) + dt.timedelta(
        minutes=rng.randint(0, 870 - minutes))
    return start, start + dt.timedelta(minutes=minutes)


def day_windows(plan: TeamPlan, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    """The team's active intervals on a local day: working hours minus its silence."""
    opens = dt.datetime.combine(day, WORK_START, LOCAL_TZ)
    closes = dt.datetime.combine(day, WORK_END, LOCAL_TZ)
    quiet = silent_window(plan, day)
    if quiet is None:
        return [(opens, closes)]
    return [(a, b) for a, b in ((opens, quiet[0]), (quiet[1], closes)) if a < b]


def active_windows(plan: TeamPlan, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """Active intervals of the team clipped to ``[start, end)``."""
    windows = []
    day, last = start.astimezone(LOCAL_TZ).date(), end.astimezone(LOCAL_TZ).date()
    while day <= last:
        for a, b in day_windows(plan, day):
            a, b = max(a, start), min(b, end)
            if a < b:
                windows.append((a, b))
        day += dt.timedelta(days=1)
    return windows


def next_active(plan: TeamPlan, moment: dt.datetime) -> dt.datetime:
    """``moment`` if the team works then, else when it next starts working."""
    day = moment.astimezone(LOCAL_TZ).date()
    while True:
        for a, b in day_windows(plan, day):
            if moment < b:
                return max(moment, a)
        day += dt.timedelta(days=1)


@dataclass(order=True)
class _Step:
    due: dt.datetime
    n: int
    kind: EventType = field(compare=False)
    level: int | None = field(compare=False)
    citizen: dict[str, Any] = field(compare=False)
    officer: str = field(compare=False)


@dataclass
class TeamState:
    """A team's plan and the follow-ups it still owes (approvals, activations)."""

    plan: TeamPlan
    pending: list[_Step] = field(default_factory=list)
    steps: int = 0

    def schedule(self, due: dt.datetime, kind: EventType, level: int | None,
                 citizen: dict[str, Any], officer: str) -> None:
        self.steps += 1
        heapq.heappush(self.pending, _Step(next_active(self.plan, due), self.steps, kind, level,
                                           citizen, officer))


def new_team_state(plan: TeamPlan, start: dt.datetime, rng: random.Random) -> TeamState:
    """A team at ``start`` with the level-2 files it collected earlier still awaiting approval,
    so level-2 activations flow from the first day instead of after a three-day gap."""
    state = TeamState(plan)
    backlog = round(plan.expected_per_day * plan.level2_share * 2.0)
    for _ in range(backlog):
        state.schedule(start + dt.timedelta(hours=rng.uniform(0.0, 72.0)),
                       EventType.APPLICATION_APPROVED, 2,
                       make_citizen(rng, year=start.year), rng.choice(plan.officers))
    return state


def _visit(state: TeamState, at: dt.datetime, rng: random.Random) -> None:
    plan = state.plan
    person = make_citizen(rng, year=at.astimezone(LOCAL_TZ).year)
    officer = rng.choice(plan.officers)
    if rng.random() < plan.level2_share:
        state.schedule(at, EventType.REGISTRATION_COLLECTED, 2, person, officer)
    else:
        state.schedule(at, EventType.APP_INSTALLED, None, person, officer)


def _follow_up(state: TeamState, step: _Step, rng: random.Random) -> None:
    """What happens to the citizen after ``step``: the delays of the real funnel."""
    officers, at, person = state.plan.officers, step.due, step.citizen
    if step.kind is EventType.APP_INSTALLED:
        draw = rng.random()
        if draw < 0.87:  # OTP arrives, activated on the spot
            state.schedule(at + dt.timedelta(minutes=rng.uniform(2, 12)),
                           EventType.ACCOUNT_ACTIVATED, 1, person, step.officer)
        elif draw < 0.97:  # phone not registered to the citizen: a second visit
            state.schedule(at + dt.timedelta(hours=rng.uniform(4, 48)),
                           EventType.ACCOUNT_ACTIVATED, 1, person, rng.choice(officers))
    elif step.kind is EventType.REGISTRATION_COLLECTED:
        hours = rng.uniform(3, 8) if rng.random() < 0.25 else rng.uniform(20, 72)
        state.schedule(at + dt.timedelta(hours=hours), EventType.APPLICATION_APPROVED, 2,
                       person, rng.choice(officers))
    elif step.kind is EventType.APPLICATION_APPROVED:
        hours = rng.uniform(0.5, 4) if rng.random() < 0.6 else rng.uniform(12, 30)
        state.schedule(at + dt.timedelta(hours=hours), EventType.ACCOUNT_ACTIVATED, 2,
                       person, rng.choice(officers))


def _event(step: _Step, team: str, rng: random.Random) -> dict[str, Any]:
    event: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "type": step.kind.value,
        "occurred_at": local_iso(step.due),
        "team": team,
        "officer": step.officer,
        "citizen": dict(step.citizen),
    }
    if step.level is not None:
        event["level"] = step.level
    return event


def events_between(state: TeamState, start: dt.datetime, end: dt.datetime,
                   rng: random.Random) -> list[dict[str, Any]]:
    """JSON-ready events the team records in ``[start, end)``, in time order.

    New visits arrive as a Poisson process following the day's intensity (thinning); their
    follow-ups are emitted once due. Call with back-to-back intervals: what falls due at or
    after ``end`` stays pending for the next call.
    """
    plan = state.plan
    rate = plan.expected_per_day / WORK_SECONDS * _MAX_WEIGHT
    if rate > 0:
        for a, b in active_windows(plan, start, end):
            at = a
            while True:
                at += dt.timedelta(seconds=rng.expovariate(rate))
                if at >= b:
                    break
                if rng.random() * _MAX_WEIGHT < intensity(at):
                    _visit(state, at, rng)
    events = []
    while state.pending and state.pending[0].due < end:
        step = heapq.heappop(state.pending)
        events.append(_event(step, plan.team, rng))
        _follow_up(state, step, rng)
    return events
