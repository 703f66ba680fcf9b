"""Reading what the relay published, straight from the broker."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from tally06.contract.events import ProgressChange, fact_dicts
from tally06.contract.topics import FACTS, PROGRESS
from tally06.kit.topic_partitions import topic_partitions


async def read_progress(bootstrap: str, idle_s: float = 1.0) -> list[ProgressChange]:
    """Every message of the progress stream, validated against the contract."""
    return [ProgressChange.model_validate_json(v) for v in await read_topic(bootstrap, PROGRESS.name, idle_s)]


async def read_facts(bootstrap: str, idle_s: float = 1.5, timeout_s: float = 60) -> list[dict]:
    """Every fact on the facts topic, reading until nothing new arrives for ``idle_s``."""
    facts: list[dict] = []
    for value in await read_topic(bootstrap, FACTS.name, idle_s, timeout_s):
        facts.extend(fact_dicts(value))
    return facts


async def read_topic(bootstrap: str, topic: str, idle_s: float = 1.5, timeout_s: float = 60) -> list[bytes]:
    """Every message value of a topic, reading until nothing new arrives for ``idle_s``."""
    return [record.value for record in await read_records(bootstrap, topic, idle_s, timeout_s)]


async def read_records(bootstrap: str, topic: str, idle_s: float = 1.5, timeout_s: float = 60) -> list[ConsumerRecord]:
    """Every record of a topic (with its partition and offset), until nothing new arrives."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = await topic_partitions(consumer, topic)
        tps = [TopicPartition(topic, p) for p in partitions]
        if not tps:
            return []
        consumer.assign(tps)  # no group: "earliest" puts it at the beginning
        found: list[ConsumerRecord] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            batch = await consumer.getmany(timeout_ms=int(idle_s * 1000), max_records=10_000)
            if not batch:
                break
            for records in batch.values():
                found.extend(records)
        return found
    finally:
        await consumer.stop()


async def records_to_end(bootstrap: str, topics: list[str], timeout_s: float = 60) -> list[ConsumerRecord]:
    """Every record of the topics up to their end offsets as they stand when called.

    Done when the consumer's position reaches each end, not when a fetch comes back empty (which
    passed on nothing read), nor at the last record seen (a position also moves past what holds no
    record, a transaction's markers).
    """
    # From the beginning by the reset policy, not seek_to_beginning: aiokafka lets the reset that
    # assign() starts land after a seek_to_* and win (KAFKA-7703 in Kafka's own client).
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        tps = [TopicPartition(t, p) for t in topics for p in await topic_partitions(consumer, t)]
        if not tps:
            return []
        ends = await consumer.end_offsets(tps)
        consumer.assign(tps)
        found: list[ConsumerRecord] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        remaining = {tp for tp in tps if await consumer.position(tp) < ends[tp]}
        while remaining:
            if loop.time() > deadline:
                raise TimeoutError(f"{sorted(map(str, remaining))} not read to their ends in {timeout_s} s")
            batch = await consumer.getmany(*remaining, timeout_ms=500, max_records=10_000)
            for records in batch.values():
                found.extend(records)
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
        return found
    finally:
        await consumer.stop()


async def wait_for_facts(bootstrap: str, event_ids: set[str], timeout_s: float = 60) -> dict[str, dict]:
    """Facts for the given event ids, waiting until all have arrived (or the timeout)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    found: dict[str, dict] = {}
    while loop.time() < deadline:
        found = {f["event_id"]: f for f in await read_facts(bootstrap, idle_s=0.5) if f["event_id"] in event_ids}
        if len(found) == len(event_ids):
            break
        await asyncio.sleep(0.5)
    return found


async def forget_topics(bootstrap: str, timeout_s: float = 30) -> None:
    """Delete every topic but Kafka's own, and wait until the broker no longer lists them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while ours := [t for t in await admin.list_topics() if not t.startswith("__")]:
            if loop.time() > deadline:
                raise TimeoutError(f"topics still listed after {timeout_s} s: {ours}")
            await admin.delete_topics(ours)
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
