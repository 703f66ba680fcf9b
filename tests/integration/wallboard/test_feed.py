"""The live feed when the broker goes away and comes back without its log (Tansu keeps it in
memory): boards are told the feed is down, and changes on the new log reach them again."""

from __future__ import annotations

import asyncio
import time

import orjson
from aiokafka import AIOKafkaProducer

from tally06.contract.topics import PROGRESS
from tally06.kit.topic_admin import ensure_topics
from tally06_wallboard.feed import ProgressFeed
from tally06_wallboard.hub import Hub


async def publish(bootstrap: str, units: list[str], version: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for unit in units:
            change = {"unit": unit, "day": "2026-11-20", "as_of": "2026-11-20T08:00:00+00:00", "total": {},
                      "daily": {"activated_l2": {"credited": version, "claims": 0, "version": version}}}
            await producer.send_and_wait(PROGRESS.name, orjson.dumps(change), key=unit.encode())
    finally:
        await producer.stop()


async def received(queue: asyncio.Queue, wanted: set[str], timeout_s: float = 10) -> bool:
    """Whether changes of all these units arrive (others may too: a broker whose end offsets are
    too low lets the feed start a little early, which only repeats absolute values)."""
    units: set[str] = set()
    async with asyncio.timeout(timeout_s):
        while not wanted <= units:
            units.add((await queue.get()).data["unit"])
    return True


async def until(condition, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)


async def test_feed_follows_the_broker_epoch_after_the_broker_lost_its_log(own_broker):
    await ensure_topics(own_broker.bootstrap)
    # Every partition holds messages, so the feed's positions are past where a new log starts.
    await publish(own_broker.bootstrap, [f"OLD-{n}" for n in range(48)], 1)
    epoch = {"value": 0}

    async def broker_epoch() -> int:
        return epoch["value"]

    hub = Hub()
    feed = ProgressFeed(own_broker.bootstrap, hub, broker_epoch=broker_epoch, check_s=0.5)
    task = asyncio.create_task(feed.run())
    try:
        with hub.subscribe() as queue:
            await asyncio.wait_for(feed.positioned.wait(), 30)
            await publish(own_broker.bootstrap, ["A", "B"], 2)
            assert await received(queue, {"A", "B"})
            assert feed.healthy()

            await asyncio.to_thread(own_broker.stop)
            await until(lambda: not feed.healthy())  # boards stop counting their figures fresh
            await asyncio.to_thread(own_broker.start)
            await ensure_topics(own_broker.bootstrap)
            # The aggregator publishes on the new log before the relay noticed the loss.
            await publish(own_broker.bootstrap, ["EARLY"], 3)
            epoch["value"] = 1
            await publish(own_broker.bootstrap, ["LATE"], 4)
            assert await received(queue, {"EARLY", "LATE"}, timeout_s=20)
            await until(feed.healthy)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
