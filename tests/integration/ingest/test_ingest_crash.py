"""SIGKILL of ingest during a stream of batches: every event answered `accepted` survives."""

from __future__ import annotations

import asyncio
import random

import asyncpg
import pytest

from tests.integration.ingest.test_relay import devices_for, wait_published
from tests.support.kafka import wait_for_facts


@pytest.mark.slow
async def test_nothing_accepted_is_lost_when_ingest_is_killed(start_service, make_token, database, broker):
    ingest = start_service("ingest")
    start_service("relay")
    devices = await devices_for(ingest, make_token)
    load = asyncio.create_task(devices.stream(batches=240, size=25, pause_s=0.005))
    rng = random.Random(6)
    for _ in range(3):
        await asyncio.sleep(rng.uniform(0.5, 1.5))
        ingest.kill()
        await asyncio.sleep(0.3)
        ingest.start()
    await load

    conn = await asyncpg.connect(database)
    try:
        stored = {r["event_id"] for r in await conn.fetch("SELECT event_id::text FROM events")}
    finally:
        await conn.close()
    assert devices.accepted <= stored
    await wait_published(database)
    found = await wait_for_facts(broker.bootstrap, devices.accepted, timeout_s=60)
    assert set(found) == devices.accepted
