"""A reorganisation while events keep arriving: the same stream counted in the 2023 map, then in
a two-tier map (districts dissolved, two communes merged, one split by team, one renamed, a team
renamed), equals a ground truth worked out in this file from the team codes, live and after a
rebuild; a report for a cutoff before the change is the same before and after it."""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg

from tally06.contract.events import LOCAL_TZ, local_day
from tally06.domain.org import OrgRegistry, Unit, UnitKind
from tally06.domain.org_maps import Change, MappingRow
from tally06.imports.reference import demo_org
from tally06.reports.appendix1 import build_appendix1
from tally06.store.org import save_map
from tally06_aggregator.rebuild import rebuild_counters
from tests.integration.aggregator.test_exact_counters import TEAMS, Field, assert_exact
from tests.support import ground_truth
from tests.support.kafka import read_progress

MERGED = {"TH-01-C01": "TH-M01", "TH-01-C02": "TH-M01"}
RENAMED = {"TH-03-C02": "TH-R01"}
RENAMED_TEAM = {"TH-27-C05-T1": "TH-27-C05-T9"}
SPLIT = "TH-03-C01"  # T1 goes to TH-S01, T2 and T3 to TH-S02
STREAMED = [*TEAMS, "TH-03-C01-T2"]


def two_tier_path(team: str) -> list[str]:
    """Where a team's work counts in the two-tier map, from the rules above (not from tally06)."""
    team = RENAMED_TEAM.get(team, team)
    commune = team.rsplit("-", 1)[0]
    if commune == SPLIT:
        commune = "TH-S01" if team.endswith("-T1") else "TH-S02"
    commune = MERGED.get(commune, RENAMED.get(commune, commune))
    return ["TH", commune, team]


def two_tier_map() -> tuple[OrgRegistry, list[MappingRow]]:
    old = demo_org()
    units = [Unit("TH", "Tỉnh Thanh Hóa", UnitKind.PROVINCE, None)]
    units += [Unit("TH-M01", "Phường Hạc Thành", UnitKind.COMMUNE, "TH"),
              Unit("TH-S01", "Xã Tách Một", UnitKind.COMMUNE, "TH"),
              Unit("TH-S02", "Xã Tách Hai", UnitKind.COMMUNE, "TH"),
              Unit("TH-R01", "Phường Đổi Tên", UnitKind.COMMUNE, "TH")]
    for commune in old.units(UnitKind.COMMUNE):
        if commune.code not in MERGED and commune.code not in RENAMED and commune.code != SPLIT:
            units.append(Unit(commune.code, commune.name, UnitKind.COMMUNE, "TH"))
    for team in old.units(UnitKind.TEAM):
        path = two_tier_path(team.code)
        units.append(Unit(path[2], team.name, UnitKind.TEAM, path[1]))
    rows = [(d.code, "TH", Change.DISSOLVE) for d in old.units(UnitKind.DISTRICT)]
    rows += [(old_code, new, Change.MERGE) for old_code, new in MERGED.items()]
    rows += [(old_code, new, Change.RENAME) for old_code, new in (*RENAMED.items(), *RENAMED_TEAM.items())]
    rows += [(SPLIT, "TH-S01", Change.SPLIT), (SPLIT, "TH-S02", Change.SPLIT)]
    return OrgRegistry(units), [MappingRow(n, *row) for n, row in enumerate(rows, start=2)]


async def test_reorganisation_while_streaming_counts_every_event_in_both_maps(
        broker, start_service, make_token, database):
    ingest = start_service("ingest", bootstrap=broker.bootstrap, TALLY06_ORG_REFRESH_S="0.5")
    start_service("relay", bootstrap=broker.bootstrap)
    start_service("aggregator", bootstrap=broker.bootstrap, TALLY06_MAP_CHECK_S="0.5")
    field = Field(ingest.url, {team: await make_token(team) for team in STREAMED})

    await field.stream(batches=40)
    await assert_exact(database, field)  # the 2023 map: TH, district, commune, team

    conn = await asyncpg.connect(database)
    try:
        # The drive's history before the change: its events were received two days ago, and the
        # report is as of the end of yesterday (local), a day in force under the 2023 map.
        await conn.execute("UPDATE events SET received_at = received_at - interval '2 days'")
        cutoff = dt.datetime.combine(local_day(dt.datetime.now(dt.UTC)), dt.time(0), LOCAL_TZ) - dt.timedelta(seconds=1)
        before = await build_appendix1(conn, "TH", cutoff)

        streaming = asyncio.create_task(field.stream(batches=40, pause_s=0.02))
        await asyncio.sleep(1.0)
        registry, mapping = two_tier_map()
        async with conn.transaction():
            saved = await save_map(conn, registry, mapping=mapping, source="test two-tier map")
        await streaming
        # A device of the renamed team still posts under its old code; a new device uses the new one.
        field.tokens["TH-27-C05-T9"] = await make_token("TH-27-C05-T9")
        field.teams.append("TH-27-C05-T9")
        await field.stream(batches=20)

        await assert_exact(database, field, units=two_tier_path)
        assert await conn.fetchval("SELECT map_id FROM read_model_map") == saved.map.id
        assert not await conn.fetchval("SELECT count(*) FROM unit_total WHERE unit = ANY($1::text[])",
                                       ["TH-01", "TH-03", "TH-01-C01", "TH-03-C02", "TH-27-C05-T1"])
        after = await build_appendix1(conn, "TH", cutoff)
        assert after == before and after.map is not None and after.map.id == 1
        assert [r.unit_code for r in after.rows] == [f"TH-{n:02d}" for n in range(1, 28)]
    finally:
        await conn.close()

    # The progress stream follows: its newest figures of a merged commune are the new map's.
    merged = ground_truth.count(field.accepted, two_tier_path)["unit_total"][("TH-M01", "activated_l1", "credited")]
    for _ in range(40):
        if await newest_total(broker.bootstrap, "TH-M01", "activated_l1") == merged:
            break
        await asyncio.sleep(0.5)
    assert await newest_total(broker.bootstrap, "TH-M01", "activated_l1") == merged

    await rebuild_counters(database)
    await assert_exact(database, field, units=two_tier_path)


async def newest_total(bootstrap: str, unit: str, metric: str) -> int | None:
    newest: tuple[int, int] | None = None
    for change in await read_progress(bootstrap):
        count = change.total.get(metric) if change.unit == unit else None
        if count is not None and (newest is None or count.version > newest[0]):
            newest = (count.version, count.credited)
    return newest[1] if newest else None
