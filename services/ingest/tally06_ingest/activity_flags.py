"""Implausible activity: more credited account activations by one officer in one local hour
than a person can do (one takes about 90 s). Pure: counting and the threshold, no I/O.

The hour is the local clock hour (Asia/Ho_Chi_Minh) of ``occurred_at``, when the officer did
the work, not when the phone uploaded it: a backlog posted at once is no evidence of anything.
A flag is a question for a person to look into; the events themselves are accepted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tally06.contract.events import LOCAL_TZ, DeviceEvent, EventType


@dataclass(frozen=True, order=True)
class OfficerHour:
    officer: str
    # Local wall-clock time on the hour, without a zone (Asia/Ho_Chi_Minh has no DST).
    local_hour: dt.datetime


@dataclass(frozen=True)
class HourTally:
    """Credited activations of one officer in one local hour, and the team of the last one."""

    team: str
    activations: int


@dataclass(frozen=True)
class ActivityFlag:
    officer: str
    team: str
    local_hour: dt.datetime
    activations: int
    threshold: int
    flagged_at: dt.datetime


def local_hour(moment: dt.datetime) -> dt.datetime:
    """The local clock hour a moment falls in, as a naive wall-clock datetime."""
    return moment.astimezone(LOCAL_TZ).replace(minute=0, second=0, microsecond=0, tzinfo=None)


def credited_activations(accepted: Iterable[tuple[DeviceEvent, bool]]) -> dict[OfficerHour, HourTally]:
    """Credited account activations per officer and local hour, from newly accepted events and
    whether each earned the credit (a duplicate claim on a citizen is no new work). The team
    is the one of the officer's last event in the hour."""
    tallies: dict[OfficerHour, HourTally] = {}
    for event, credited in accepted:
        if not credited or event.type is not EventType.ACCOUNT_ACTIVATED:
            continue
        key = OfficerHour(event.officer, local_hour(event.occurred_at))
        before = tallies.get(key)
        tallies[key] = HourTally(event.team, (before.activations if before else 0) + 1)
    return tallies


def add_tallies(into: dict[OfficerHour, HourTally], more: Mapping[OfficerHour, HourTally]) -> None:
    """Add ``more`` to ``into`` in place (it may be large), officer and hour by officer and
    hour; the team of ``more`` wins, as it is the later one."""
    for key, tally in more.items():
        before = into.get(key)
        into[key] = HourTally(tally.team, (before.activations if before else 0) + tally.activations)


def flags_over(totals: Mapping[OfficerHour, HourTally], threshold: int,
               now: dt.datetime) -> list[ActivityFlag]:
    """A flag for every officer and hour whose total exceeds ``threshold`` (0: none), in key
    order so concurrent writers lock rows in the same order."""
    if threshold <= 0:
        return []
    return [
        ActivityFlag(key.officer, tally.team, key.local_hour, tally.activations, threshold, now)
        for key, tally in sorted(totals.items())
        if tally.activations > threshold
    ]
