"""Replay benchmark: the aggregator counting 1,000,000 facts into PostgreSQL, next to a bare
aiokafka consumer loop doing the same counting in memory over the same messages."""

from __future__ import annotations

import asyncio
import time
from itertools import islice

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.components import Bench
from bench.synthetic import synthetic_rows
from tally06.events import F, decode_fact_rows
from tally06.topics import FACTS, fact_key
from tally06_aggregator.fold import Tally, expand, tally
from tally06_ingest.facts import batches_by_key, encode_batch, seq_headers
from tally06_ingest.settings import RelaySettings

RELAY_ROUND = RelaySettings().relay_batch_rows


async def publish_like_the_relay(bootstrap: str, count: int) -> dict[str, int]:
    """Publish ``count`` facts in the relay's shapes; returns the last seq per key."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                                max_request_size=4 * 1024 * 1024, max_batch_size=1024 * 1024)
    await producer.start()
    last: dict[str, int] = {}
    rows = synthetic_rows(count)
    try:
        while chunk := list(islice(rows, RELAY_ROUND)):
            sends = []
            for key, chunks in batches_by_key(chunk, 500).items():
                for facts in chunks:
                    sends.append(await producer.send(FACTS.name, encode_batch(key, facts), key=fact_key(key),
                                                     headers=seq_headers(facts)))
                last[key] = chunks[-1][-1][F.SEQ]
            await asyncio.gather(*sends)
    finally:
        await producer.stop()
    return last


async def bare_consumer(bootstrap: str, count: int) -> float:
    """Events/s of a plain consumer loop: decode and count in memory, no database."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                max_partition_fetch_bytes=8 * 1024 * 1024, fetch_max_bytes=64 * 1024 * 1024)
    await consumer.start()
    try:
        await consumer.topics()
        tps = [TopicPartition(FACTS.name, p) for p in consumer.partitions_for_topic(FACTS.name)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        counted, positions, seen = Tally(), {}, 0
        started = time.perf_counter()
        while seen < count:
            batch = await consumer.getmany(timeout_ms=1000, max_records=2000)
            messages = [decode_fact_rows(r.value) for records in batch.values() for r in records]
            counted, moved = tally(messages, positions, counted)
            positions.update(moved)
            seen += sum(len(rows) for _, rows in messages)
        expand(counted)
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def aggregator_replay(bench: Bench, dsn: str, last: dict[str, int], count: int) -> dict[str, float]:
    """Events/s of the real aggregator process, from its first commit to the last fact."""
    service = bench.service("tally06_aggregator", dsn, "TALLY06_AGGREGATOR_PORT",
                            TALLY06_AGGREGATOR_APP_ID=f"bench-{time.time_ns()}")
    conn = await asyncpg.connect(dsn)
    try:
        launched = time.perf_counter()
        first = done = None
        while done is None:
            await asyncio.sleep(0.05)
            rows = await conn.fetch("SELECT key, position FROM projection_positions")
            positions = {r["key"]: r["position"] for r in rows}
            if first is None and any(positions.values()):
                first = time.perf_counter()
            if all(positions.get(k, 0) >= v for k, v in last.items()):
                done = time.perf_counter()
            if time.perf_counter() - launched > 600:
                raise TimeoutError("aggregator did not finish the replay in 10 minutes")
        counted = await conn.fetchval("SELECT sum(credited + claims) FROM unit_total WHERE unit = 'TH'")
        if counted != count:
            raise AssertionError(f"aggregator counted {counted} of {count}")
        return {"replay_eps": count / (done - first), "replay_with_startup_eps": count / (done - launched),
                "memory_mb": service.rss_mb()}
    finally:
        await conn.close()
        service.stop()


async def run_replay(bench: Bench, count: int) -> dict[str, float]:
    dsn = await bench.fresh_database()
    t0 = time.perf_counter()
    last = await publish_like_the_relay(bench.broker.bootstrap, count)
    publish_s = time.perf_counter() - t0
    bare = await bare_consumer(bench.broker.bootstrap, count)
    result = await aggregator_replay(bench, dsn, last, count)
    return {"events": count, "publish_s": publish_s, "bare_consumer_eps": bare, **result}
