"""The funnel of units of every level on PostgreSQL, against counts and medians made in the test.

Where a citizen lives is worked out here from the demo map's codes (a unit's subtree is its code
and the codes that extend it), not through the map tables the code under test joins."""

from __future__ import annotations

import datetime as dt
import random
import statistics

from tally06.contract.events import Metric
from tally06.domain.registry import RegistryRecord, RegistryStatus
from tally06.store.funnel import unit_funnel
from tests.support.registry_citizen_rows import new_keys, write_extract

COMMUNES = ["TH-03-C01", "TH-03-C02", "TH-03-C03", "TH-01-C01", "TH-01-C02"]
STAGE_STATUSES = {
    "collected": {"collected", "approved", "activated", "rejected"},
    "approved": {"approved", "activated"},
    "activated": {"activated"},
}


def random_record(key: str, rng: random.Random) -> RegistryRecord:
    status = rng.choice(list(RegistryStatus))
    commune = rng.choice(COMMUNES)
    # Some live in a village or group the map knows (a team code stands in for one in the demo
    # map), which wins over the commune, even one of another district.
    village = rng.choice([None, None, "thôn Mới", "TH-03-C01-T2"])
    collected = dt.date(2024, 9, 1) + dt.timedelta(days=rng.randrange(40))
    # Some records lack the collection day (level 1 accounts are registered in the app).
    collected_on = None if rng.random() < 0.1 else collected
    approved_on = collected + dt.timedelta(days=rng.randrange(1, 15)) if status in ("approved", "activated") else None
    activated_on = approved_on + dt.timedelta(days=rng.randrange(1, 6)) if status == "activated" and approved_on else None
    rejected_on = collected + dt.timedelta(days=3) if status == "rejected" else None
    return RegistryRecord(key, status, rng.choice([1, 2]), commune, village, collected_on, approved_on, activated_on,
                          rejected_on)


def lives_in(record: RegistryRecord, unit: str) -> bool:
    home = record.village if record.village == "TH-03-C01-T2" else record.commune
    return home == unit or home.startswith(unit + "-") or unit == "TH"


def expected(records: list[RegistryRecord], unit: str, installed: int) -> dict:
    mine = [r for r in records if lives_in(r, unit)]
    gaps_ca = [(r.approved_on - r.collected_on).days for r in mine if r.collected_on and r.approved_on]
    gaps_aa = [(r.activated_on - r.approved_on).days for r in mine if r.approved_on and r.activated_on]
    return {
        "installed": installed,
        **{stage: sum(r.status.value in statuses for r in mine) for stage, statuses in STAGE_STATUSES.items()},
        "collected_to_approved": statistics.median(gaps_ca) if gaps_ca else None,
        "approved_to_activated": statistics.median(gaps_aa) if gaps_aa else None,
    }


async def test_funnel_per_unit_of_every_level(db):
    rng = random.Random(17)
    records = [random_record(k, rng) for k in new_keys(601)]
    await write_extract(db, dt.datetime(2024, 11, 1, tzinfo=dt.UTC), records)
    installed = {"TH": 900, "TH-03": 500, "TH-03-C01": 120, "TH-03-C01-T2": 40, "TH-01": 400}
    await db.executemany("INSERT INTO unit_total (unit, metric, credited) VALUES ($1, $2, $3)",
                         [(u, Metric.INSTALLED.value, n) for u, n in installed.items()])

    for unit in ["TH", "TH-03", "TH-03-C01", "TH-03-C01-T2", "TH-03-C02", "TH-01", "TH-01-C02", "TH-05"]:
        found = await unit_funnel(db, unit)
        want = expected(records, unit, installed.get(unit, 0))
        assert dict(found.stages()) == {k: want[k] for k in ("installed", "collected", "approved", "activated")}, unit
        assert (found.collected_to_approved, found.approved_to_activated) == (
            want["collected_to_approved"], want["approved_to_activated"]), unit

    # A unit where nobody lives: nothing to measure, so no medians (not 0 days).
    empty = await unit_funnel(db, "TH-05")
    assert (empty.collected, empty.collected_to_approved, empty.approved_to_activated) == (0, None, None)
    # The randomness gave every stage something to count in the district.
    district = await unit_funnel(db, "TH-03")
    assert district.activated > 0 and district.approved > district.activated and district.collected > district.approved
