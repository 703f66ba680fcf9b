"""The demo's maps of Thanh Hóa: which are loaded at start, and the reorganisation during a run.

A demo starts in the two-tier map (the 2023 map is loaded too, in force until 2025-07-01, so a
report for a 2023 cutoff is in the map of its day) or in the 2023 map alone; from there it can
load the two-tier map, with its mapping, taking effect on the demo's today, while the simulator
keeps posting: the read model is re-summed in the new map, and Appendix I in the 2023 map for a
cutoff before the switch must come out the same before and after.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import asyncpg
import structlog

from tally06.contract.events import EVENT_METRICS, LOCAL_TZ
from tally06.domain.accounts import Role
from tally06.domain.org import OrgRegistry, UnitKind
from tally06.domain.org_maps import Change, OrgMap
from tally06.imports.reference import (
    PLAN70_START,
    PROVINCE_CODE,
    TWO_TIER_FROM,
    TWO_TIER_SOURCE,
    DemoMap,
    appendix1_targets,
    demo_org,
    two_tier_communes,
    two_tier_mapping,
    two_tier_org,
    two_tier_targets,
)
from tally06.reports.appendix1 import Appendix1Report, build_appendix1
from tally06.stack.demo_data import demo_focal_points, demo_people, demo_users, load_demo_work_areas
from tally06.store.focal_points import load_focal_points
from tally06.store.org import load_map, map_ids, save_map
from tally06.store.read_model_map import Switch, load_live_map, switch_if_due
from tally06.store.targets import save_campaign_targets

log = structlog.get_logger(__name__)

MAP_2023_SOURCE = "demo: Thanh Hóa 2023 map (plan 70 districts, generated communes)"
# Ingest stamps ``received_at`` under the event-sequence lock and commits before the next write
# takes it, so a write not yet visible is stamped after the last visible one; a second of
# margin keeps the cutoff clear of a clock stepping back.
CLOCK_MARGIN = dt.timedelta(seconds=1)


@dataclass(frozen=True)
class DemoStart:
    live: OrgMap  # the map the read model is in once the demo data is loaded
    can_reorganise: bool  # the 2023 demo map is the latest, so the two-tier map can follow it
    note: str = ""


async def load_demo_maps(conn: asyncpg.Connection, start: DemoMap, today: dt.date) -> DemoStart:
    """Load the demo's maps and targets as far as the database lacks them; the read model is
    then in the map in force ``today``. A database holding another organisation keeps it."""
    if not await map_ids(conn):
        async with conn.transaction():
            await save_map(conn, demo_org(), source=MAP_2023_SOURCE)
    latest = await _latest(conn)
    note = ""
    if latest.registry not in (demo_org(), two_tier_org()):
        note = f"this database holds its own map (map {latest.id}); the demo's maps and targets are not loaded"
    else:
        if latest.registry == demo_org() and start is DemoMap.TWO_TIER:
            async with conn.transaction():
                # The demo tells the drive's history: the map changed on 1 July 2025, before today.
                await save_map(conn, two_tier_org(), effective_from=max(TWO_TIER_FROM, latest.effective_from),
                               mapping=two_tier_mapping(), source=TWO_TIER_SOURCE, backdate=True)
        elif latest.registry == two_tier_org() and start is DemoMap.Y2023:
            note = (f"this database holds the two-tier map already (map {latest.id}, in force since "
                    f"{latest.effective_from}); the demo runs in it. Start with a new --home to see the "
                    "reorganisation again.")
        await load_demo_targets(conn)
    await switch_if_due(conn, today)
    live = await load_live_map(conn)
    assert live is not None  # a map was saved above
    latest = await _latest(conn)
    return DemoStart(live, can_reorganise=latest.registry == demo_org(), note=note)


async def _latest(conn: asyncpg.Connection) -> OrgMap:
    found = await load_map(conn, (await map_ids(conn))[-1][0])
    assert found is not None
    return found


async def load_demo_targets(conn: asyncpg.Connection) -> int:
    """Appendix I's district targets, and the communes' shares once the two-tier map is loaded,
    each set unless its units have targets already; returns how many rows were added."""
    added = 0
    sets = [("plan 70 Appendix I", appendix1_targets())]
    if await conn.fetchval("SELECT count(*) FROM map_units WHERE code = $1", two_tier_communes()[0].code):
        sets.append(("plan 70 Appendix I shared among the two-tier communes by teams", two_tier_targets()))
    for source, targets in sets:
        have = await conn.fetchval("SELECT count(*) FROM campaign_targets WHERE unit = ANY($1::text[])",
                                   [t.unit_code for t in targets])
        if not have:
            added += await save_campaign_targets(conn, targets, source=source, valid_from=PLAN70_START)
    return added


async def load_demo_focal_points(conn: asyncpg.Connection, org: OrgRegistry) -> int:
    """A console focal point for every unit of the map that has no recipient yet."""
    have = {r["unit"] for r in await conn.fetch("SELECT DISTINCT unit FROM focal_points WHERE active")}
    rows = [r for r in demo_focal_points(org) if r.unit_code not in have]
    return (await load_focal_points(conn, rows, replace=False)).added if rows else 0


@dataclass(frozen=True)
class Reorganisation:
    previous_map: int
    new_map: int
    effective_from: dt.date
    switch: Switch | None  # None when the aggregator's timer switched first
    seconds: float  # loading the map, re-summing and the reports around it
    merged: str  # a merged commune, to show its history carried over
    merged_parts_before: dict[str, int]  # its 2023 communes' counts just before the switch
    merged_after: int  # its count just after
    cutoff: dt.datetime
    before: Appendix1Report
    after: Appendix1Report
    users: list[tuple[str, str, Role, str]]  # users of units of the new map, as demo_users gives them

    @property
    def report_unchanged(self) -> bool:
        return self.before.rows == self.after.rows and self.before.total == self.after.total


async def reorganise_demo(conn: asyncpg.Connection, today: dt.date) -> Reorganisation:
    """Load the two-tier map taking effect ``today`` and bring the read model to it. Appendix I
    of the province in the 2023 map, as of the last event received before the switch, is built
    before and after: the reorganisation must not change a figure of it."""
    began = time.perf_counter()
    previous = await load_live_map(conn)
    assert previous is not None
    # As of the last receipt stored: a post being written now is stamped after it (see above),
    # so the "after" report cannot count more.
    last = await conn.fetchval("SELECT max(received_at) FROM events")
    cutoff = last - CLOCK_MARGIN if last is not None else cutoff_before(today)
    merged = next(c for c in two_tier_communes() if len(c.old_communes) > 1)
    before = await build_appendix1(conn, PROVINCE_CODE, cutoff, map_id=previous.id)
    parts = await _totals(conn, merged.old_communes)
    async with conn.transaction():
        # The demo's day is its clock's, which plays working hours and may be the wall clock's
        # yesterday: not a backdate a user makes, so no refusal.
        saved = await save_map(conn, two_tier_org(), effective_from=today, mapping=two_tier_mapping(),
                               source=TWO_TIER_SOURCE, backdate=True)
    await load_demo_targets(conn)
    await load_demo_focal_points(conn, two_tier_org())
    await load_demo_work_areas(conn, two_tier_org())
    known = demo_people(previous.registry)
    users = await demo_users(conn, [p for p in demo_people(two_tier_org()) if p not in known])
    switch = await switch_if_due(conn, today)
    after_total = (await _totals(conn, (merged.code,)))[merged.code]
    after = await build_appendix1(conn, PROVINCE_CODE, cutoff, map_id=previous.id)
    done = Reorganisation(previous.id, saved.map.id, today, switch, time.perf_counter() - began, merged.code,
                          parts, after_total, cutoff, before, after, users)
    log.info("demo_reorganised", previous=previous.id, map_id=saved.map.id, rows=switch.rows if switch else None,
             report_unchanged=done.report_unchanged)
    return done


def cutoff_before(day: dt.date) -> dt.datetime:
    """The last moment of the local day before ``day``."""
    return dt.datetime.combine(day, dt.time(0), LOCAL_TZ) - dt.timedelta(microseconds=1)


async def _totals(conn: asyncpg.Connection, units: tuple[str, ...]) -> dict[str, int]:
    rows = await conn.fetch("SELECT unit, sum(credited + claims) AS n FROM unit_total "
                            "WHERE unit = ANY($1::text[]) AND metric = ANY($2::text[]) GROUP BY unit",
                            list(units), sorted(EVENT_METRICS))
    found = {r["unit"]: int(r["n"]) for r in rows}
    return {u: found.get(u, 0) for u in units}


def mapping_summary() -> str:
    """What the mapping says, in a line: how many districts dissolved, communes merged, renamed."""
    rows = two_tier_mapping()
    count = {c: sum(1 for r in rows if r.change is c) for c in Change}
    communes = len(two_tier_org().units(UnitKind.COMMUNE))
    return (f"{communes} communes under {PROVINCE_CODE}: {count[Change.DISSOLVE]} districts dissolved, "
            f"{count[Change.MERGE]} communes merged, {count[Change.RENAME]} renamed")
