"""Reorganisation benchmark: the read model of 1,000,000 events brought to a new map.

Issue 16 asks that applying a new map bring the live read model to it "within minutes for a
province's whole campaign". On the rebuild section's database (the million synthetic events
counted in the 2023 demo map: 27 districts, 167 communes, 501 teams), the two-tier map of
Thanh Hóa (166 communes directly under the province, the same teams) is loaded with its
mapping, taking effect today, and ``switch_read_model`` re-sums the unit rows through the new
map's holders. Next to it, in the same run and database:

- a plain re-sum of the same officer rows into tables shaped like the unit tables (same
  columns, keys and defaults), one row per team, without the map join and the walk up the
  path: what summing those rows costs at all;
- the rebuild of the same events from the event store (the rebuild section).

The read model after the switch must equal a ground truth counted from the synthetic rows
themselves (every unit of the two-tier map, per day and in total), or the time means nothing.
"""

from __future__ import annotations

import time
from typing import Any

import asyncpg

from bench.rebuild import GroundTruth, StoredEvents
from tally06.imports.reference import two_tier_mapping, two_tier_org
from tally06.store.org import save_map
from tally06.store.read_model_map import read_model_map, switch_read_model

_PLAIN_RESUM = (
    "INSERT INTO bench_resum_daily (unit, day, metric, credited, claims) "
    "SELECT team, day, metric, sum(credited), sum(claims) FROM officer_daily GROUP BY 1, 2, 3",
    "INSERT INTO bench_resum_total (unit, metric, credited, claims) "
    "SELECT team, metric, sum(credited), sum(claims) FROM officer_total GROUP BY 1, 2",
)


async def plain_resum(conn: asyncpg.Connection) -> tuple[float, int]:
    """Seconds and rows of the baseline: the officer rows summed per team, in one transaction."""
    await conn.execute("CREATE TABLE bench_resum_daily (LIKE unit_daily INCLUDING ALL)")
    await conn.execute("CREATE TABLE bench_resum_total (LIKE unit_total INCLUDING ALL)")
    try:
        began = time.perf_counter()
        async with conn.transaction():
            rows = sum([int((await conn.execute(sql)).split()[-1]) for sql in _PLAIN_RESUM])
        return time.perf_counter() - began, rows
    finally:
        await conn.execute("DROP TABLE bench_resum_daily, bench_resum_total")


def expected_read_model(truth: GroundTruth) -> tuple[dict[tuple, tuple[int, int]], dict[tuple, tuple[int, int]]]:
    """Every unit of the two-tier map, per (unit, day, metric) and (unit, metric): the sums of the
    events of the teams it holds (teams keep their codes, so a team's lineage says where)."""
    org = two_tier_org()
    daily: dict[tuple, list[int]] = {}
    total: dict[tuple, list[int]] = {}
    for (team, day, metric), (credited, claims) in truth.daily.items():
        lineage = org.lineage(team)
        if lineage is None:
            raise AssertionError(f"team {team} of the events is not in the two-tier map")
        for unit in lineage.codes:
            for cell in (daily.setdefault((unit, day, metric), [0, 0]), total.setdefault((unit, metric), [0, 0])):
                cell[0] += credited
                cell[1] += claims
    return ({k: (a, b) for k, (a, b) in daily.items()}, {k: (a, b) for k, (a, b) in total.items()})


async def check_read_model(conn: asyncpg.Connection, truth: GroundTruth) -> int:
    """Compare the unit rows with the ground truth; returns how many rows were checked."""
    daily, total = expected_read_model(truth)
    got_daily = {(r["unit"], r["day"], r["metric"]): (r["credited"], r["claims"])
                 for r in await conn.fetch("SELECT unit, day, metric, credited, claims FROM unit_daily")}
    got_total = {(r["unit"], r["metric"]): (r["credited"], r["claims"])
                 for r in await conn.fetch("SELECT unit, metric, credited, claims FROM unit_total")}
    for name, got, want in (("unit_daily", got_daily, daily), ("unit_total", got_total, total)):
        if got != want:
            wrong = sorted(k for k in got.keys() | want.keys() if got.get(k) != want.get(k))
            raise AssertionError(f"{name} after the switch differs from the ground truth in {len(wrong)} rows, "
                                 f"e.g. {[(k, got.get(k), want.get(k)) for k in wrong[:3]]}")
    return len(got_daily) + len(got_total)


async def run_reorg(stored: StoredEvents, rebuild_s: float) -> dict[str, Any]:
    conn = await asyncpg.connect(stored.dsn)
    try:
        previous = await read_model_map(conn)
        officer_rows = await conn.fetchval("SELECT (SELECT count(*) FROM officer_daily) + "
                                           "(SELECT count(*) FROM officer_total)")
        baseline_s, baseline_rows = await plain_resum(conn)
        loaded = time.perf_counter()
        async with conn.transaction():
            saved = await save_map(conn, two_tier_org(), mapping=two_tier_mapping(), source="bench: two-tier map")
        load_s = time.perf_counter() - loaded
        began = time.perf_counter()
        switch = await switch_read_model(conn, saved.map.id)
        switch_s = time.perf_counter() - began
        if switch is None:
            raise AssertionError(f"the read model was in map {saved.map.id} already")
        checked = await check_read_model(conn, stored.truth)
    finally:
        await conn.close()
    return {"events": stored.count, "switch_s": switch_s, "switch_rows": switch.rows, "map_load_s": load_s,
            "officer_rows": officer_rows, "plain_resum_s": baseline_s, "plain_resum_rows": baseline_rows,
            "vs_plain_resum": switch_s / baseline_s, "rebuild_s": rebuild_s, "vs_rebuild": switch_s / rebuild_s,
            "maps": [previous, saved.map.id], "mapping_rows": len(two_tier_mapping()), "checked_rows": checked}
