"""The live feed through broker faults on Apache Kafka: killed and restarted with its log, boards
are told the feed is down and then get what changes after; with the log lost (the topic deleted
and created anew), changes on the new log reach them too, before and after the relay's new
broker epoch."""

from __future__ import annotations

import asyncio
import time

import orjson
from aiokafka import AIOKafkaProducer

from tally06.contract.topics import PROGRESS
from tally06.kit.topic_admin import ensure_topics
from tally06_wallboard.feed import ProgressFeed
from tally06_wallboard.hub import Hub
from tests.support.kafka import forget_topics


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


async def received(queue: asyncio.Queue, wanted: set[str], timeout_s: float = 10) -> set[str]:
    """The units whose changes arrived until all these did (others may come too: a feed that
    reads a new log from its start passes on what it holds, which only repeats absolute values)."""
    units: set[str] = set()
    async with asyncio.timeout(timeout_s):
        while not wanted <= units:
            units.add((await queue.get()).data["unit"])
    return units


async def until(condition, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)


async def running_feed(bootstrap: str, epoch: dict[str, int]) -> tuple[ProgressFeed, Hub, asyncio.Task]:
    await ensure_topics(bootstrap)
    # Every partition holds messages, so the feed's positions are past where a new log starts.
    await publish(bootstrap, [f"OLD-{n}" for n in range(48)], 1)

    async def broker_epoch() -> int:
        return epoch["value"]

    hub = Hub()
    feed = ProgressFeed(bootstrap, hub, broker_epoch=broker_epoch, check_s=0.5)
    return feed, hub, asyncio.create_task(feed.run())


async def test_feed_is_down_while_the_broker_is_killed_and_goes_on_with_its_log(own_broker):
    feed, hub, task = await running_feed(own_broker.bootstrap, {"value": 0})
    try:
        with hub.subscribe() as queue:
            await asyncio.wait_for(feed.positioned.wait(), 30)
            await publish(own_broker.bootstrap, ["A", "B"], 2)
            assert await received(queue, {"A", "B"})
            assert feed.healthy()

            await asyncio.to_thread(own_broker.kill)
            await until(lambda: not feed.healthy())  # boards stop counting their figures fresh
            await asyncio.to_thread(own_broker.start)
            await publish(own_broker.bootstrap, ["AFTER"], 3)
            # The log was kept and the epoch did not move: nothing old is passed on again.
            assert await received(queue, {"AFTER"}, timeout_s=20) == {"AFTER"}
            await until(feed.healthy)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_feed_follows_the_new_log_when_the_topic_is_recreated(own_broker):
    epoch = {"value": 0}
    feed, hub, task = await running_feed(own_broker.bootstrap, epoch)
    try:
        with hub.subscribe() as queue:
            await asyncio.wait_for(feed.positioned.wait(), 30)
            await publish(own_broker.bootstrap, ["A", "B"], 2)
            assert await received(queue, {"A", "B"})

            await forget_topics(own_broker.bootstrap)
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


async def test_a_feed_starts_at_the_end_of_the_log_every_time(broker):
    """What the log held before a board's feed started is not news: started again and again on
    a full topic, it passes on only what comes after (positioned by explicit end offsets, which
    the reset that assign() starts cannot overtake, as it can a seek_to_end)."""
    await publish(broker.bootstrap, [f"OLD-{n}" for n in range(48)], 1)
    for start in range(10):
        hub = Hub()
        feed = ProgressFeed(broker.bootstrap, hub, check_s=30)
        with hub.subscribe() as queue:
            task = asyncio.create_task(feed.run())
            try:
                await asyncio.wait_for(feed.positioned.wait(), 30)
                await publish(broker.bootstrap, [f"NEW-{start}"], 2)
                assert await received(queue, {f"NEW-{start}"}) == {f"NEW-{start}"}, f"start {start}"
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
