"""The demo's maps on a real database: what a start loads in each mode, and the reorganisation
from the 2023 map to the two-tier map with the read model re-summed and Appendix I unchanged."""

from __future__ import annotations

import datetime as dt
import random
import uuid

from tally06.contract.events import LOCAL_TZ
from tally06.domain.org import OrgRegistry, Unit, UnitKind
from tally06.imports.reference import (
    TWO_TIER_FROM,
    DemoMap,
    appendix1,
    commune_targets,
    demo_org,
    two_tier_communes,
    two_tier_org,
)
from tally06.stack.demo_maps import load_demo_maps, reorganise_demo
from tally06.store.org import map_ids, save_map

TODAY = dt.date(2026, 12, 5)


async def target_sums(db) -> tuple[int, int]:
    districts = [d.code for d in appendix1()]
    communes = [c.code for c in commune_targets()]
    return tuple([await db.fetchval("SELECT coalesce(sum(total), 0) FROM campaign_targets WHERE unit = ANY($1)", codes)
                  for codes in (districts, communes)])


async def test_the_default_demo_holds_both_maps_and_counts_in_the_two_tier_one(db):
    start = await load_demo_maps(db, DemoMap.TWO_TIER, TODAY)
    maps = await map_ids(db)
    assert [day for _, day in maps][1:] == [TWO_TIER_FROM]
    assert start.live.id == maps[-1][0] and start.live.registry == two_tier_org()
    assert await db.fetchval("SELECT map_id FROM read_model_map") == start.live.id
    assert not start.can_reorganise and not start.note
    assert await target_sums(db) == (3_243_976, 3_243_976)
    again = await load_demo_maps(db, DemoMap.TWO_TIER, TODAY)  # a restart adds nothing
    assert await map_ids(db) == maps and again.live.id == start.live.id
    assert await db.fetchval("SELECT count(*) FROM campaign_targets") == 27 + 166
    # Asked for the 2023 map now, the demo says why it stays in the two-tier one.
    old = await load_demo_maps(db, DemoMap.Y2023, TODAY)
    assert old.live.id == start.live.id and "new --home" in old.note


async def test_the_2023_demo_holds_the_districts_only(db):
    start = await load_demo_maps(db, DemoMap.Y2023, TODAY)
    assert start.live.registry == demo_org() and start.can_reorganise
    assert len(await map_ids(db)) == 1
    assert await target_sums(db) == (3_243_976, 0)


async def test_a_database_with_its_own_map_keeps_it(db):
    own = OrgRegistry([*demo_org().units(), Unit("TH-03-C01-T9", "Tổ 9", UnitKind.TEAM, "TH-03-C01")])
    async with db.transaction():
        await save_map(db, own, effective_from=TODAY, backdate=True)
    start = await load_demo_maps(db, DemoMap.TWO_TIER, TODAY)
    assert start.live.registry == own and "its own map" in start.note
    assert len(await map_ids(db)) == 2 and await target_sums(db) == (0, 0)


async def seed_2023(db, rng: random.Random, count: int) -> list[tuple]:
    """Events and counters as the aggregator leaves them in the 2023 map; returns the
    (team, officer, metric, credited) of every event."""
    teams = [t.code for t in demo_org().units(UnitKind.TEAM)]
    received = dt.datetime(2026, 12, 5, 8, 0, tzinfo=LOCAL_TZ)
    facts, rows = [], []
    for seq in range(1, count + 1):
        team = rng.choice(teams)
        lineage = demo_org().lineage(team)
        metric = rng.choice(("activated_l1", "activated_l2", "installed"))
        credited = rng.random() > 0.1
        officer = f"CA-{team}-{rng.randrange(3)}"
        at = received - dt.timedelta(minutes=rng.randrange(600))
        facts.append((team, officer, metric, credited))
        rows.append((seq, uuid.uuid4(), "test", 1, "account_activated" if metric != "installed" else "app_installed",
                     None if metric == "installed" else int(metric[-1]), metric, at, at.date(),
                     received + dt.timedelta(seconds=seq), "TH", lineage.district, lineage.commune, team, officer,
                     uuid.uuid4().hex, credited, lineage.key_unit, 1, list(lineage.codes)))
    await db.executemany(
        "INSERT INTO events (seq, event_id, content_digest, schema_version, type, level, metric, occurred_at, day, "
        "received_at, province, district, commune, team, officer, citizen_key, credited, fact_key, map_id, lineage) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)", rows)
    totals: dict[tuple[str, str, str], list[int]] = {}
    for team, officer, metric, credited in facts:
        cell = totals.setdefault((team, officer, metric), [0, 0])
        cell[0 if credited else 1] += 1
    await db.executemany("INSERT INTO officer_total (team, officer, metric, credited, claims) VALUES ($1,$2,$3,$4,$5)",
                         [(*k, c, d) for k, (c, d) in totals.items()])
    units: dict[tuple[str, str], list[int]] = {}
    for (team, _, metric), (credited, claims) in totals.items():
        for unit in demo_org().lineage(team).codes:
            cell = units.setdefault((unit, metric), [0, 0])
            cell[0] += credited
            cell[1] += claims
    await db.executemany("INSERT INTO unit_total (unit, metric, credited, claims) VALUES ($1,$2,$3,$4)",
                         [(*k, c, d) for k, (c, d) in units.items()])
    await db.execute("UPDATE event_seq SET last_seq = $1", count)
    return facts


async def test_reorganising_resums_in_the_new_map_and_leaves_appendix1_as_it_was(db):
    await load_demo_maps(db, DemoMap.Y2023, TODAY)
    facts = await seed_2023(db, random.Random(16), 3_000)
    done = await reorganise_demo(db, TODAY)
    assert (done.previous_map, done.effective_from) == (1, TODAY)
    assert await db.fetchval("SELECT map_id FROM read_model_map") == done.new_map
    assert done.switch is not None and done.switch.map_id == done.new_map
    # Ground truth from the events themselves: each team's work in its two-tier commune.
    commune_of = {t: two_tier_org().lineage(t).commune for t, *_ in facts}
    expected: dict[str, int] = {}
    for team, *_ in facts:
        expected[commune_of[team]] = expected.get(commune_of[team], 0) + 1
    rows = await db.fetch("SELECT unit, sum(credited + claims) AS n FROM unit_total "
                          "WHERE unit = ANY($1) GROUP BY unit", [c.code for c in two_tier_communes()])
    assert {r["unit"]: r["n"] for r in rows} == expected
    merged = next(c for c in two_tier_communes() if len(c.old_communes) > 1)
    assert done.merged == merged.code and done.merged_after == expected.get(merged.code, 0)
    assert sum(done.merged_parts_before.values()) == done.merged_after
    # Appendix I in the 2023 map as of the last receipt: 27 districts, the same before and after.
    assert done.report_unchanged and len(done.after.rows) == 27
    # The cutoff is a second before the last receipt: event n was received n seconds after 08:00.
    activated = sum(1 for n, (_, _, metric, credited) in enumerate(facts, start=1)
                    if credited and metric.startswith("activated") and n < len(facts))
    assert done.after.total.activated_total == activated
    # The new map's communes got targets, focal points, and their demo user.
    assert await target_sums(db) == (3_243_976, 3_243_976)
    focal = await db.fetchval("SELECT count(*) FROM focal_points WHERE active AND unit = ANY($1)",
                              [c.code for c in two_tier_communes()])
    assert focal == 166
    assert [(u[0], u[3]) for u in done.users] == [("samson1", next(
        c.code for c in two_tier_communes() if c.district == "TH-03"))]
