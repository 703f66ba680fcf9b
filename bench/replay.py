"""Replay benchmark: the aggregator counting 1,000,000 facts into PostgreSQL, next to a bare
aiokafka consumer loop doing the same counting in memory over the same messages, and next to
peer stream processors over the same messages: Quix Streams (``bench.peer_quix``) counting the
facts per key, and Kafka Streams (``bench.peer_kstreams``) keeping the aggregator's counters,
checked against the bare loop's fold.

Facts are published as the relay publishes them: keyed by the commune each was stored with
(``events.fact_key``), carrying their map and lineage (facts v2); the aggregator's positions
are per commune too.

The notifier and the wallboard, where they can run, start after the aggregator's replay on the
same database and broker, read what it left (progress stream, read model), and their memory is
read then: after the same 1,000,000 events, without sharing the CPU with the replay."""

from __future__ import annotations

import asyncio
import time
from itertools import islice
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.components import Bench, Service, module_runnable
from bench.peer_kstreams import fold_counters
from bench.peer_kstreams import peer_in_process as kstreams_in_process
from bench.peer_quix import peer_in_process
from bench.synthetic import synthetic_rows
from tally06.contract.events import EVENT_METRICS, F, decode_fact_rows
from tally06.contract.topics import FACTS, fact_key
from tally06.kit.topic_partitions import topic_partitions
from tally06_aggregator.fold import Deltas, Tally, expand, tally
from tally06_ingest.facts import batches_by_key, encode_batch, seq_headers
from tally06_ingest.settings import RelaySettings

RELAY_ROUND = RelaySettings().relay_batch_rows


async def publish_like_the_relay(bootstrap: str, count: int,
                                 per_key: dict[str, int] | None = None) -> dict[str, int]:
    """Publish ``count`` facts in the relay's shapes; returns the last seq per key and, in
    ``per_key``, counts the facts per key."""
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
                if per_key is not None:
                    per_key[key] = per_key.get(key, 0) + sum(len(facts) for facts in chunks)
            await asyncio.gather(*sends)
    finally:
        await producer.stop()
    return last


async def bare_consumer(bootstrap: str, count: int, folded: list[Deltas] | None = None) -> float:
    """Events/s of a plain consumer loop: decode and count in memory, no database; the counters
    it folded are appended to ``folded``."""
    # "earliest" rather than seek_to_beginning: aiokafka lets the reset that assign() starts win
    # over a seek_to_* made while it runs (tests/support/kafka.records_to_end).
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest",
                                max_partition_fetch_bytes=8 * 1024 * 1024, fetch_max_bytes=64 * 1024 * 1024)
    await consumer.start()
    try:
        tps = [TopicPartition(FACTS.name, p) for p in await topic_partitions(consumer, FACTS.name)]
        consumer.assign(tps)
        counted, positions, seen = Tally(), {}, 0
        started = time.perf_counter()
        while seen < count:
            batch = await consumer.getmany(timeout_ms=1000, max_records=2000)
            messages = [decode_fact_rows(r.value) for records in batch.values() for r in records]
            counted, moved = tally(messages, positions, counted)
            positions.update(moved)
            seen += sum(len(m.rows) for m in messages)
        deltas = expand(counted)
        eps = count / (time.perf_counter() - started)
        if folded is not None:
            folded.append(deltas)
        return eps
    finally:
        await consumer.stop()


OPTIONAL_SERVICES = {"notifier": ("tally06_notifier", "TALLY06_NOTIFIER_PORT"),
                     "wallboard": ("tally06_wallboard", "TALLY06_WALLBOARD_PORT")}


def start_optional_services(bench: Bench, dsn: str, console: Any = None) -> dict[str, Service | str]:
    """The notifier and the wallboard if their packages can run (they are being built); else a
    note saying why not."""
    started: dict[str, Service | str] = {}
    for name, (module, port_setting) in OPTIONAL_SERVICES.items():
        if module_runnable(module):
            extra = {f"TALLY06_{name.upper()}_APP_ID": f"bench-{name}-{time.time_ns()}"}
            started[name] = bench.service(module, dsn, port_setting, **extra)
        else:
            started[name] = f"not available: {module} has no __main__ here"
            if console is not None:
                console.print(f"{name}: not available ({module} cannot be run with python -m)")
    return started


async def optional_services_memory(started: dict[str, Service | str], settle_s: float = 10.0) -> dict[str, Any]:
    """RSS of each optional service once it is ready and has had ``settle_s`` to read what the
    replay left (the progress stream, the read model); None and a note when it did not run."""
    memory: dict[str, float | None] = {}
    notes: dict[str, str] = {}
    for name, service in started.items():
        if isinstance(service, Service):
            try:
                await service.ready(timeout_s=60)
            except (RuntimeError, TimeoutError) as exc:
                notes[name] = f"not ready: {str(exc)[:600]}"
    await asyncio.sleep(settle_s if any(isinstance(s, Service) for s in started.values()) else 0)
    for name, service in started.items():
        if isinstance(service, str):
            memory[name], notes[name] = None, service
        elif not service.alive:
            memory[name] = None
            notes[name] = f"exited with {service.process.returncode}: {service.log_tail(600)}"
        else:
            memory[name] = service.rss_mb()
    return {"memory_mb": memory, "notes": notes}


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
        counted = await conn.fetchval("SELECT sum(credited + claims) FROM unit_total WHERE unit = 'TH' "
                                      "AND metric = ANY($1::text[])", sorted(EVENT_METRICS))
        if counted != count:
            raise AssertionError(f"aggregator counted {counted} of {count}")
        return {"replay_eps": count / (done - first), "replay_with_startup_eps": count / (done - launched),
                "memory_mb": service.rss_mb()}
    finally:
        await conn.close()
        service.stop()


def check_peer(peer: dict[str, Any], per_key: dict[str, int]) -> dict[str, Any]:
    """The peer's counts per key (commune) must be the published ones, or its speed means
    nothing."""
    if "error" in peer or not peer.get("complete"):
        return peer
    counted = peer.pop("per_key", None)
    if counted is not None and counted != per_key:
        wrong = {k: (counted.get(k), per_key.get(k)) for k in per_key.keys() | counted.keys()
                 if counted.get(k) != per_key.get(k)}
        return {**peer, "error": f"peer counted wrong per key (got, expected): {wrong}"}
    return peer


async def run_replay(bench: Bench, count: int, *, peer: bool = True, console: Any = None) -> dict[str, Any]:
    dsn = await bench.fresh_database()
    t0 = time.perf_counter()
    per_key: dict[str, int] = {}
    last = await publish_like_the_relay(bench.broker.bootstrap, count, per_key)
    publish_s = time.perf_counter() - t0
    folded: list[Deltas] = []
    bare = await bare_consumer(bench.broker.bootstrap, count, folded)
    peers: dict[str, Any] = {}
    kstreams: dict[str, Any] = {}
    if peer:
        for work in ("count", "fold"):
            if console is not None:
                console.print(f"  peer: Quix Streams, work={work} …")
            result = await asyncio.to_thread(peer_in_process, bench.broker.bootstrap, count, bench.workdir, work)
            peers[work] = check_peer(result, per_key)
        if console is not None:
            console.print("  peer: Kafka Streams (Java), exactly_once_v2 …")
        kstreams = await asyncio.to_thread(kstreams_in_process, bench.broker.bootstrap, count, bench.workdir,
                                           fold_counters(folded[0]))
    result = await aggregator_replay(bench, dsn, last, count)
    # After the replay, so that they do not share the CPU with the aggregator being measured:
    # they read the progress stream and the read model the 1,000,000 facts left.
    others = start_optional_services(bench, dsn, console)
    try:
        optional = await optional_services_memory(others)
    finally:
        for service in others.values():
            if isinstance(service, Service):
                service.stop()
    return {"events": count, "publish_s": publish_s, "bare_consumer_eps": bare, "peer_quix": peers,
            "peer_kstreams": kstreams,
            "optional_services": optional, **result}
