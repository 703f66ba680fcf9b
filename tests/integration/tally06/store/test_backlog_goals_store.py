"""Backlog goals on PostgreSQL: the Sầm Sơn figures (docs/backlog-goals.md), moved by extracts.

Every expected figure is worked out by hand in the comments, not by the code under test."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from tally06.contract.events import LOCAL_TZ
from tally06.domain.registry import RegistryRecord, RegistryStatus
from tally06.store.backlog_goals import GoalRefused, goals_progress, set_goal
from tests.support.registry_citizen_rows import new_keys, write_extract

D = dt.date
SAM_SON_COMMUNES = [f"TH-03-C0{n}" for n in range(1, 6)]
LETTER = dt.datetime(2024, 10, 25, 8, 0, tzinfo=LOCAL_TZ)


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 0), LOCAL_TZ)


def approved(key: str, n: int, commune: str | None = None) -> RegistryRecord:
    return RegistryRecord(key, RegistryStatus.APPROVED, 2, commune or SAM_SON_COMMUNES[n % 5],
                          # a village the map does not know: the citizen lives in the commune
                          village="thôn 3" if n % 7 == 0 else None,
                          collected_on=D(2024, 9, 1) + dt.timedelta(days=n % 30),
                          approved_on=D(2024, 10, 1) + dt.timedelta(days=n % 20))


def activated(record: RegistryRecord, day: dt.date, **changes: object) -> RegistryRecord:
    return replace(record, status=RegistryStatus.ACTIVATED, activated_on=day, **changes)  # type: ignore[arg-type]


async def test_sam_son_approved_not_activated_goal_moved_by_extracts(db):
    # Before the letter: 3,935 approved not activated in Sầm Sơn, and people who must not count.
    members = [approved(k, n) for n, k in enumerate(new_keys(3_935))]
    already_active = [activated(approved(k, n), D(2024, 10, 10)) for n, k in enumerate(new_keys(200))]
    collected_only = [RegistryRecord(k, RegistryStatus.COLLECTED, 2, SAM_SON_COMMUNES[n % 5],
                                     collected_on=D(2024, 10, 20)) for n, k in enumerate(new_keys(300))]
    elsewhere = [approved(k, n, "TH-01-C01") for n, k in enumerate(new_keys(150))]
    rejected = [RegistryRecord(k, RegistryStatus.REJECTED, 2, "TH-03-C02", collected_on=D(2024, 9, 3),
                               rejected_on=D(2024, 9, 9)) for k in new_keys(50)]
    await write_extract(db, at(D(2024, 10, 24)), members + already_active + collected_only + elsewhere + rejected)

    goal = await set_goal(db, unit="TH-03", list_name="approved_not_activated", share=Decimal(100),
                          due=D(2024, 11, 30), now=LETTER, actor="test")
    assert goal.goal.baseline == 3_935 and goal.goal.set_on == D(2024, 10, 25)
    frozen = {r["citizen_key"] for r in await db.fetch(
        "SELECT citizen_key FROM backlog_goal_members WHERE goal_id = $1", goal.id)}
    assert frozen == {m.citizen_key for m in members}
    newcomers_goal = await set_goal(db, unit="TH-03", list_name="not_registered", share=Decimal(80),
                                    due=D(2024, 12, 20), now=LETTER, baseline=20_058, actor="test")
    assert (newcomers_goal.goal.baseline, newcomers_goal.goal.target) == (20_058, 16_047)

    # On the letter's day: 3,935 over 37 days (10-25..11-30); 37 × 106 = 3,922 < 3,935 → 107.
    [(_, first), (_, newcomers)] = await goals_progress(db, D(2024, 10, 25), "TH-03")
    assert (first.done, first.target, first.remaining, first.required_per_day, first.forecast_day) == (
        0, 3_935, 3_935, 107, None)
    # 80 % of 20,058 = 16,046.4 → 16,047 over 57 days (7 + 30 + 20); 57 × 281 = 16,017 → 282.
    assert (newcomers.target, newcomers.required_per_day) == (16_047, 282)

    # Extract of 2024-11-09: 1,500 members activated, 10 of them now living in another district
    # (still members: the list is of people); others move too but are not members.
    moved = [activated(m, D(2024, 10, 26) + dt.timedelta(days=n % 15),
                       **({"commune": "TH-01-C02"} if n < 10 else {})) for n, m in enumerate(members[:1_500])]
    promoted = [replace(c, status=RegistryStatus.APPROVED, approved_on=D(2024, 11, 2)) for c in collected_only[:100]]
    elsewhere_done = [activated(e, D(2024, 11, 3)) for e in elsewhere[:40]]
    first_seen = [RegistryRecord(k, RegistryStatus.ACTIVATED, 2, SAM_SON_COMMUNES[n % 5],
                                 collected_on=D(2024, 11, 1), approved_on=D(2024, 11, 3),
                                 activated_on=D(2024, 11, 5)) for n, k in enumerate(new_keys(20))]
    first_seen_elsewhere = [replace(r, citizen_key=k, commune="TH-01-C03")
                            for r, k in zip(first_seen[:5], new_keys(5), strict=True)]
    await write_extract(db, at(D(2024, 11, 9)), moved + promoted + elsewhere_done + first_seen + first_seen_elsewhere)

    [(_, first), (_, newcomers)] = await goals_progress(db, D(2024, 11, 10), "TH-03")
    # Left 3,935 − 1,500 = 2,435 over 11-10..11-30 = 21 days; 21 × 115 = 2,415 < 2,435 → 116.
    # Pace: 1,500 over the 16 days 10-25..11-09 = 93.75 a day; 2,435 / 93.75 = 25.97 → 26 days
    # counting 11-10 as the first → 2024-12-05, after the due day.
    assert (first.done, first.remaining, first.required_per_day) == (1_500, 2_435, 116)
    assert first.forecast_day == D(2024, 12, 5) and not first.on_track
    # Not registered: only the 20 first seen in Sầm Sơn on/after 10-25 and activated count.
    # Left 16,027 over 11-10..12-20 = 41 days; 41 × 390 = 15,990 < 16,027 → 391. Pace 20 / 16 =
    # 1.25 a day → 16,027 / 1.25 = 12,821.6 → 12,822 days from 11-10 on.
    assert (newcomers.done, newcomers.required_per_day) == (20, 391)
    assert newcomers.forecast_day == D(2024, 11, 9) + dt.timedelta(days=12_822) and not newcomers.on_track

    # Extract of 2024-11-19: 1,500 more members activated.
    await write_extract(db, at(D(2024, 11, 19)),
                        [activated(m, D(2024, 11, 12)) for m in members[1_500:3_000]])
    [(_, first), _] = await goals_progress(db, D(2024, 11, 20), "TH-03")
    # Left 935 over 11-20..11-30 = 11 days = 85 a day exactly. Pace 3,000 / 26 days = 115.38 a day;
    # 935 / 115.38 = 8.1 → 9 days from 11-20 → 2024-11-28, on track.
    assert (first.done, first.remaining, first.required_per_day) == (3_000, 935, 85)
    assert first.forecast_day == D(2024, 11, 28) and first.on_track

    # The baseline stayed frozen while the registry moved.
    assert (await db.fetchval("SELECT baseline FROM backlog_goals WHERE id = $1", goal.id)) == 3_935
    assert await goals_progress(db, D(2024, 11, 20), "TH-01") == []


@pytest.mark.parametrize(("changes", "field"), [
    ({"list_name": "everyone"}, "list"),
    ({"share": Decimal(0)}, "share"),
    ({"share": Decimal(101)}, "share"),
    ({"due": D(2024, 10, 24)}, "due"),
    ({"unit": "TH-99"}, "unit"),
    ({"baseline": 10}, "baseline"),  # counted from the registry, not given
    ({"list_name": "not_registered"}, "baseline"),  # must be given
])
async def test_refusals_name_their_field(db, changes, field):
    asked = {"unit": "TH-03", "list_name": "approved_not_activated", "share": Decimal(100),
             "due": D(2024, 11, 30), "now": LETTER, **changes}
    with pytest.raises(GoalRefused) as refused:
        await set_goal(db, **asked)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert await db.fetchval("SELECT count(*) FROM backlog_goals") == 0
