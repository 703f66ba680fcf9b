"""Counting credited activations per officer and local hour, and the threshold: pure."""

from __future__ import annotations

import datetime as dt

from tally06.contract.events import DeviceEvent
from tally06_ingest.activity_flags import (
    ActivityFlag,
    HourTally,
    OfficerHour,
    add_tallies,
    credited_activations,
    flags_over,
    local_hour,
)
from tests.support import factories

NOW = dt.datetime(2024, 10, 25, 4, 0, tzinfo=dt.UTC)  # 11:00 in Hà Nội


def event(at: str, *, officer: str = "CA-TH03-0001", team: str = "TH-03-C01-T1",
          type: str = "account_activated", level: int | None = 2) -> DeviceEvent:  # noqa: A002 - the event field
    """``at`` is local time (+07:00)."""
    moment = dt.datetime.fromisoformat(f"2024-10-25T{at}:00+07:00")
    return DeviceEvent.model_validate(factories.event(occurred_at=moment, officer=officer, team=team,
                                                     type=type, level=level))


def hour(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"2024-10-25T{text}:00")


def test_local_hour_is_the_wall_clock_hour_in_vietnam():
    assert local_hour(dt.datetime(2024, 10, 25, 2, 59, 59, tzinfo=dt.UTC)) == hour("09:00")
    assert local_hour(dt.datetime(2024, 10, 24, 17, 30, tzinfo=dt.UTC)) == dt.datetime(2024, 10, 25, 0, 0)
    assert local_hour(dt.datetime.fromisoformat("2024-10-25T10:15:00+09:00")) == hour("08:00")
    assert local_hour(NOW).tzinfo is None


def test_only_credited_account_activations_count_per_officer_and_hour():
    accepted = [
        (event("09:01"), True),
        (event("09:59"), True),
        (event("10:00"), True),  # the next hour
        (event("09:30"), False),  # a duplicate claim on a citizen: no new work
        (event("09:31", type="app_installed", level=None), True),
        (event("09:32", type="registration_collected", level=1), True),
        (event("09:33", type="application_approved", level=1), True),
        (event("09:34", officer="CA-TH03-0002", level=1), True),
    ]
    assert credited_activations(accepted) == {
        OfficerHour("CA-TH03-0001", hour("09:00")): HourTally("TH-03-C01-T1", 2),
        OfficerHour("CA-TH03-0001", hour("10:00")): HourTally("TH-03-C01-T1", 1),
        OfficerHour("CA-TH03-0002", hour("09:00")): HourTally("TH-03-C01-T1", 1),
    }


def test_the_team_is_the_one_of_the_last_event():
    accepted = [(event("09:01"), True), (event("09:02", team="TH-03-C02-T1"), True)]
    assert credited_activations(accepted) == {
        OfficerHour("CA-TH03-0001", hour("09:00")): HourTally("TH-03-C02-T1", 2)}


def test_nothing_accepted_counts_nothing():
    assert credited_activations([]) == {}


def test_tallies_add_up_across_batches():
    key, other = OfficerHour("A", hour("09:00")), OfficerHour("B", hour("09:00"))
    pending = {key: HourTally("T1", 3)}
    add_tallies(pending, {key: HourTally("T2", 4), other: HourTally("T1", 1)})
    assert pending == {key: HourTally("T2", 7), other: HourTally("T1", 1)}


def test_flags_only_above_the_threshold_in_key_order():
    totals = {
        OfficerHour("B", hour("09:00")): HourTally("T1", 41),
        OfficerHour("A", hour("10:00")): HourTally("T2", 90),
        OfficerHour("A", hour("09:00")): HourTally("T2", 40),  # at the threshold: plausible
        OfficerHour("C", hour("09:00")): HourTally("T3", 3),
    }
    assert flags_over(totals, 40, NOW) == [
        ActivityFlag("A", "T2", hour("10:00"), 90, 40, NOW),
        ActivityFlag("B", "T1", hour("09:00"), 41, 40, NOW),
    ]


def test_a_threshold_of_zero_flags_nothing():
    assert flags_over({OfficerHour("A", hour("09:00")): HourTally("T", 1000)}, 0, NOW) == []


def test_a_plausible_working_day_is_never_flagged():
    """One activation every 90 s all day long stays under the default threshold."""
    start = dt.datetime(2024, 10, 25, 7, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    accepted = []
    for n in range(int(14.5 * 3600 / 90)):
        moment = start + dt.timedelta(seconds=90 * n)
        accepted.append((DeviceEvent.model_validate(factories.event(occurred_at=moment)), True))
    totals = credited_activations(accepted)
    assert max(t.activations for t in totals.values()) == 40
    assert flags_over(totals, 40, NOW) == []
