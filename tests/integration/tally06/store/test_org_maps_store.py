"""Map versions in PostgreSQL: an upgrade keeps the previous release's ingest working, maps are
added in order, and the live read model is re-summed through the new map's holders."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tally06.domain.exceptions import OrgError
from tally06.domain.org import OrgRegistry, Unit, UnitKind
from tally06.domain.org_maps import Change, MappingRow
from tally06.store.org import load_map, map_in_force, save_map
from tally06.store.read_model_map import read_model_map, switch_if_due

_OLD_INSERT = (
    "INSERT INTO events (seq, event_id, content_digest, schema_version, type, level, metric, occurred_at, day, "
    "received_at, province, district, commune, team, officer, citizen_key, credited) "
    "VALUES ($1, $2, 'd', 1, 'account_activated', 1, 'activated_l1', now(), current_date, now(), "
    "'TH', 'TH-03', 'TH-03-C01', 'TH-03-C01-T1', 'CA-1', 'k', true)")


async def test_an_ingest_of_the_previous_release_still_stores_events(db):
    await db.execute(_OLD_INSERT, 1, uuid.uuid4())
    row = await db.fetchrow("SELECT fact_key, lineage, map_id FROM events WHERE seq = 1")
    assert (row["fact_key"], row["lineage"], row["map_id"]) == (
        "TH-03", ["TH", "TH-03", "TH-03-C01", "TH-03-C01-T1"], 0)


def _two_communes() -> OrgRegistry:
    """TH → TH-03-C01 (holding TH-03-C01's teams and TH-03-C02's) and every other commune."""
    return OrgRegistry([
        Unit("TH", "Thanh Hóa", UnitKind.PROVINCE, None),
        Unit("TH-X", "Xã mới", UnitKind.COMMUNE, "TH"),
        *(Unit(f"TH-03-C0{c}-T{t}", "Tổ", UnitKind.TEAM, "TH-X") for c in (1, 2) for t in (1, 2, 3)),
    ])


async def test_maps_come_in_order_and_the_read_model_follows_the_map_in_force(db):
    first = await load_map(db)
    assert first is not None and first.id == 1 and await read_model_map(db) == 1
    # Counted work of two teams of two communes, in the 2023 map.
    await db.execute(
        "INSERT INTO officer_daily (team, officer, day, metric, credited, claims) VALUES "
        "('TH-03-C01-T1', 'A', '2024-10-25', 'activated_l1', 5, 1), "
        "('TH-03-C02-T2', 'B', '2024-10-25', 'activated_l1', 7, 0)")
    await db.execute(
        "INSERT INTO officer_total (team, officer, metric, credited, claims) VALUES "
        "('TH-03-C01-T1', 'A', 'activated_l1', 5, 1), ('TH-03-C02-T2', 'B', 'activated_l1', 7, 0)")
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    mapping = [MappingRow(2 + n, d.code, "TH", Change.DISSOLVE)
               for n, d in enumerate(first.registry.units(UnitKind.DISTRICT))]
    mapping += [MappingRow(100 + n, c.code, "TH-X", Change.MERGE)
                for n, c in enumerate(first.registry.units(UnitKind.COMMUNE))]
    # Every other team leaves the map: their communes merge into TH-X but they are not there.
    with pytest.raises(OrgError, match="has no team in the new map"):
        async with db.transaction():
            await save_map(db, _two_communes(), effective_from=tomorrow, mapping=mapping)
    assert [r["id"] for r in await db.fetch("SELECT id FROM org_maps")] == [1]

    keep = {"TH-03-C01-T1", "TH-03-C02-T2"}
    teams = [t for t in first.registry.units(UnitKind.TEAM) if t.code not in keep]
    mapping += [MappingRow(10_000 + n, t.code, "TH-03-C01-T1", Change.MERGE) for n, t in enumerate(teams)]
    async with db.transaction():
        saved = await save_map(db, _two_communes(), effective_from=tomorrow, mapping=mapping)
    assert saved.created and saved.map.id == 2
    assert await map_in_force(db) == 1 and await switch_if_due(db) is None  # not in force yet
    with pytest.raises(OrgError, match="maps are added in order"):
        async with db.transaction():
            await save_map(db, _two_communes(), effective_from=tomorrow - dt.timedelta(days=1))

    switch = await switch_if_due(db, tomorrow)
    assert switch is not None and (switch.map_id, switch.previous) == (2, 1)
    totals = {r["unit"]: (r["credited"], r["claims"]) for r in await db.fetch(
        "SELECT unit, credited, claims FROM unit_total WHERE metric = 'activated_l1'")}
    assert totals == {"TH": (12, 1), "TH-X": (12, 1), "TH-03-C01-T1": (5, 1), "TH-03-C02-T2": (7, 0)}
    assert await switch_if_due(db, tomorrow) is None
