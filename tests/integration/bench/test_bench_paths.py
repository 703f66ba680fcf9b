"""The benchmark's own code paths, small and untimed: `make bench` is not run by the suite, so
this is what notices when the contract or the read API moves under it."""

import asyncio

import aiohttp
import asyncpg
import httpx

from bench.freshness import board_figures, open_loop, signed_in_board
from bench.ingest import Workload, issue_tokens
from bench.rebuild import StoredEvents, load_events
from bench.reorg import run_reorg
from bench.replay import bare_consumer, publish_like_the_relay
from bench.synthetic import synthetic_rows
from tally06.imports.reference import two_tier_communes
from tally06.kit.topic_admin import ensure_topics
from tally06_aggregator.rebuild import rebuild_counters


async def test_replay_publishes_and_the_bare_consumer_counts(own_broker):
    await ensure_topics(own_broker.bootstrap)
    per_key: dict[str, int] = {}
    last = await publish_like_the_relay(own_broker.bootstrap, 3_000, per_key)
    assert sum(per_key.values()) == 3_000 and set(last) == set(per_key)
    assert await asyncio.wait_for(bare_consumer(own_broker.bootstrap, 3_000), 60) > 0


async def test_freshness_reads_the_board_as_a_signed_in_user(database, start_service):
    wallboard = start_service("wallboard")
    async with await signed_in_board(database, wallboard.url) as board:
        figures = await board_figures(board)
    assert figures == {} or all(isinstance(v, int) for v in figures.values())
    async with httpx.AsyncClient(base_url=wallboard.url) as anonymous:
        assert (await anonymous.get("/v1/units")).status_code == 401


async def test_freshness_open_loop_times_posts_to_the_read_model_and_the_board(own_broker, database, start_service):
    # A broker of its own: the aggregator counts every fact on its topic, other tests' included.
    names = ("ingest", "relay", "aggregator", "wallboard")
    budget = {"TALLY06_USER_RATE_PER_S": "1000", "TALLY06_USER_RATE_BURST": "1000"}  # as the bench's observer
    procs = [start_service(name, bootstrap=own_broker.bootstrap, ready=False, **(budget if name == "wallboard" else {}))
             for name in names]
    for proc in procs:
        await asyncio.to_thread(proc.wait_ready, "/readyz", 60)
    ingest, wallboard = procs[0], procs[3]
    workload = Workload(await issue_tokens(database, every=50))
    conn = await asyncpg.connect(database)
    try:
        async with aiohttp.ClientSession(ingest.url) as client, await signed_in_board(database, wallboard.url) as board:
            result = await asyncio.wait_for(
                open_loop(client, conn, board, workload, workload.bodies(4, 25), rate_eps=200), 90)
    finally:
        await conn.close()
    assert result["samples"] == 4 and result["read_model"]["samples"] == 4
    assert 0 < result["p50"] <= result["p99"] < 60_000


async def test_reorg_section_switches_the_rebuilt_read_model_to_the_two_tier_map(database):
    truth = await load_events(database, 4_000)
    await rebuild_counters(database)
    result = await run_reorg(StoredEvents(database, 4_000, truth), rebuild_s=1.0)
    assert result["maps"] == [1, 2] and result["switch_rows"] > 0 and result["checked_rows"] > 0
    assert result["switch_s"] > 0 and result["plain_resum_s"] > 0 and result["plain_resum_rows"] > 0
    # Independently of the section's own check: the merged commune holds both 2023 communes' events.
    merged = next(c for c in two_tier_communes() if len(c.old_communes) > 1)
    expected = sum(1 for r in synthetic_rows(4_000) if r["commune"] in merged.old_communes)
    conn = await asyncpg.connect(database)
    try:
        # Event counters only: the registry's pending counters mirror the credited activations.
        events = "metric NOT LIKE 'pending%'"
        got = await conn.fetchval(f"SELECT sum(credited + claims) FROM unit_total WHERE unit = $1 AND {events}",
                                  merged.code)
        assert await conn.fetchval(f"SELECT sum(credited + claims) FROM unit_total WHERE unit = 'TH' AND {events}") \
            == 4_000
        assert not await conn.fetchval("SELECT count(*) FROM unit_total WHERE unit = 'TH-01'")  # no district now
    finally:
        await conn.close()
    assert got == expected > 0
