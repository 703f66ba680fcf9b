"""The benchmark's own code paths, small and untimed: `make bench` is not run by the suite, so
this is what notices when the contract or the read API moves under it."""

import asyncio

import httpx

from bench.freshness import board_figures, signed_in_board
from bench.replay import bare_consumer, publish_like_the_relay
from tally06.topics import ensure_topics


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
