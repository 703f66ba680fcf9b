"""Ingest benchmark: events/s accepted by the real ingest process (relay running), with batches
of 500, of 100 and single-event posts, next to a raw aiokafka producer sending the same events'
JSON to a topic on the same broker in the same run.

Load is closed-loop: several HTTP clients, each posting its next body as soon as the previous
answer arrived. Bodies are generated and encoded before the timed window, so the load generator
spends its CPU on HTTP, not on making events. Every posted event is new (new event id, new
citizen), so every one is written to the event store, and an answer other than "all accepted"
stops the benchmark.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass

import aiohttp
import asyncpg
import orjson
from aiokafka import AIOKafkaProducer

from bench.components import Bench, Service
from tally06.contract.topics import TopicSpec
from tally06.domain.org import Lineage, UnitKind
from tally06.imports.reference import demo_org
from tally06.kit.topic_admin import ensure_topics
from tally06.store.device_tokens import issue_token
from tally06_ingest.settings import IngestSettings
from tests.support import factories

RAW_TOPIC = TopicSpec("bench.raw-events.v1", partitions=12)
# One worker process per core, as a production ingest would run on this machine; every section
# that loads ingest runs it so, or rates measured here would not fit it.
INGEST_WORKERS = str(os.cpu_count() or 1)
MODES = (("batch500", 500, 6), ("batch100", 100, 12), ("single", 1, 32))  # name, events/post, clients
# Device tokens of the ingest section. Ingest runs with its production abuse limits (not raised
# for the bench): 10 posts/s with bursts of 100, and 30,000 events a minute, per device token
# and worker process (docs/abuse-limits.md). A deployment's phones each post with a token of
# their own, so the section does too, with enough phones for its closed loop, which posts far
# faster than any field phone: single-event posts reach 1,000-1,500 posts/s on 2 cores, about
# 22 posts/s for each of the 51 team tokens it used to post with (a 429 stopped `make bench`,
# issue 15), 2-3 posts/s for each of 500 phones, even if one worker process takes every post.
PHONES = 500


@dataclass
class Body:
    team: str
    token: str  # the device token of the phone that posts it
    content: bytes
    events: list[bytes]

    @property
    def district(self) -> str:
        """The team's district in the bench's map (the 2023 demo map): what the read API ranks."""
        return _lineage(self.team).district or ""

    @property
    def fact_key(self) -> str:
        """The key its facts are published and counted under: the team's commune."""
        return _lineage(self.team).key_unit


def _lineage(team: str) -> Lineage:
    lineage = demo_org().lineage(team)
    if lineage is None:
        raise ValueError(f"{team} is not a team of the demo map")
    return lineage


class Workload:
    """New events for a set of teams, each team posting from its phones in turn, each phone with
    its own device token. Every event has its own citizen (a CCCD never handed out before in
    this process), so every one earns the credit and counts once on the board."""

    _cccds = itertools.count(random.randrange(10**8))

    def __init__(self, tokens: dict[str, list[str]]) -> None:
        self.tokens = tokens
        self._teams = itertools.cycle(sorted(tokens))
        self._phones = {team: itertools.cycle(phones) for team, phones in tokens.items()}

    def bodies(self, count: int, size: int) -> list[Body]:
        out = []
        for _ in range(count):
            team = next(self._teams)
            events = [orjson.dumps(factories.event(team=team, officer=f"CA-{team}-{i % 4}",
                                                   citizen_body=self._citizen())) for i in range(size)]
            out.append(Body(team, next(self._phones[team]), b'{"events":[' + b",".join(events) + b"]}", events))
        return out

    def _citizen(self) -> dict[str, str]:
        cccd = f"038{next(self._cccds) % 10**9:09d}"
        factories.ISSUED_CCCDS.add(cccd)
        return {"id_number": cccd, "full_name": "Nguyễn Văn An", "phone": factories.phone()}

    def headers(self, body: Body) -> dict[str, str]:
        return {"Authorization": f"Bearer {body.token}", "Content-Type": "application/json"}

    @property
    def phones(self) -> int:
        return sum(len(phones) for phones in self.tokens.values())


async def issue_tokens(dsn: str, every: int = 10, phones: int = 0) -> dict[str, list[str]]:
    """Device tokens for every ``every``-th team of the demo org, one per phone: ``phones`` in all,
    shared out evenly, but at least one per team."""
    teams = [u.code for u in demo_org().units(UnitKind.TEAM)][::every]
    per_team = [max(1, phones // len(teams) + (n < phones % len(teams))) for n in range(len(teams))]
    conn = await asyncpg.connect(dsn)
    try:
        return {t: [(await issue_token(conn, t, label="bench"))[1] for _ in range(k)] for t, k in zip(teams, per_team)}
    finally:
        await conn.close()


def token_limits() -> dict[str, float]:
    """The per-token abuse limits the bench's ingest processes run with (each reads the
    environment the bench passes on; nothing in it raises them)."""
    settings = IngestSettings()
    return {"posts_per_s": settings.rate_limit_per_s, "posts_burst": settings.rate_limit_burst,
            "events_per_minute": settings.rate_limit_events_per_minute}


def open_loop_session(url: str) -> aiohttp.ClientSession:
    """The HTTP client of the open-loop posters (freshness, soak): up to 200 connections, so a
    post that is due never waits for a free one."""
    return aiohttp.ClientSession(url, timeout=aiohttp.ClientTimeout(total=60),
                                 connector=aiohttp.TCPConnector(limit=200))


async def closed_loop(url: str, workload: Workload, bodies: list[Body], clients: int,
                      seconds: float, *, top_up: bool = True) -> dict[str, float]:
    """Post ``bodies`` with ``clients`` concurrent clients until time is up, or until they run out
    if not ``top_up``; with ``top_up``, more are made on the way should they not last."""
    size = len(bodies[0].events)
    made_late = 0

    def more() -> Iterator[Body]:
        nonlocal made_late
        while True:
            made_late += 1
            yield workload.bodies(1, size)[0]

    queue = itertools.chain(bodies, more()) if top_up else iter(bodies)
    accepted = posts = 0
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client_loop(n: int) -> None:
        nonlocal accepted, posts
        # Clients connect one after another, as phones do, not all in the same instant: a burst
        # of connections is accepted whole by whichever ingest worker process wakes first, and
        # keep-alive would pin the whole load on it for the window.
        await asyncio.sleep(n * 0.05)
        # aiohttp, not httpx: the load generator shares the two cores with the stack it
        # measures, and aiohttp spends about half the CPU per post.
        async with aiohttp.ClientSession(url, timeout=aiohttp.ClientTimeout(total=60)) as client:
            for body in queue:
                if time.perf_counter() >= deadline:
                    return
                sent = time.perf_counter()
                async with client.post("/v1/events", data=body.content, headers=workload.headers(body)) as response:
                    answer = await response.read()
                latencies.append(time.perf_counter() - sent)
                if response.status != 200:
                    raise AssertionError(f"ingest answered {response.status}: {answer[:300]!r}")
                totals = orjson.loads(answer)["totals"]
                if totals["accepted"] != len(body.events):
                    raise AssertionError(f"ingest answered {totals} for {len(body.events)} new events")
                accepted += totals["accepted"]
                posts += 1

    started = time.perf_counter()
    await asyncio.gather(*(client_loop(n) for n in range(clients)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"eps": accepted / elapsed, "events": accepted, "posts": posts, "seconds": elapsed, "clients": clients,
            "post_p50_ms": latencies[len(latencies) // 2] * 1000,
            "post_p99_ms": latencies[int(len(latencies) * 0.99)] * 1000, "bodies_made_in_window": made_late}


async def raw_producer(bootstrap: str, bodies: list[Body]) -> dict[str, float]:
    """Events/s of a plain aiokafka producer: each event's JSON (the bytes the posts carry) as one
    message keyed by team, acks from all in-sync replicas, as the relay asks."""
    await ensure_topics(bootstrap, specs=(RAW_TOPIC,))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                                max_batch_size=1024 * 1024, max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        messages = [(body.team.encode(), event) for body in bodies for event in body.events]
        started = time.perf_counter()
        pending = [await producer.send(RAW_TOPIC.name, value, key=key) for key, value in messages]
        await asyncio.gather(*pending)
        elapsed = time.perf_counter() - started
        # The same bodies as one message per post: the cheapest a broker write of a post can be.
        started_bodies = time.perf_counter()
        pending = [await producer.send(RAW_TOPIC.name, b.content, key=b.team.encode()) for b in bodies]
        await asyncio.gather(*pending)
        elapsed_bodies = time.perf_counter() - started_bodies
    finally:
        await producer.stop()
    return {"eps": len(messages) / elapsed, "events": len(messages), "bytes": sum(len(v) for _, v in messages),
            "body500_eps": len(messages) / elapsed_bodies}


async def relay_backlog(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT (SELECT last_seq FROM event_seq) - position FROM relay_state")


class CpuMeter:
    """CPU seconds used by each process of interest between two readings, as a share of one core."""

    def __init__(self, pids: dict[str, int], alone: frozenset[str] = frozenset()) -> None:
        self.pids = pids
        self.alone = alone  # processes counted without their children

    def read(self) -> dict[str, float]:
        import psutil

        out: dict[str, float] = {}
        for name, pid in self.pids.items():
            try:
                process = psutil.Process(pid)
                procs = [process] if name in self.alone else [process, *process.children(recursive=True)]
                out[name] = sum(sum(p.cpu_times()[:2]) for p in procs if p.is_running())
            except psutil.Error:
                out[name] = 0.0
        return out

    @staticmethod
    def share(before: dict[str, float], after: dict[str, float], seconds: float) -> dict[str, float]:
        return {name: round((after[name] - before[name]) / seconds, 2) for name in after}


async def run_ingest(bench: Bench, *, seconds: float = 20.0, raw_events: int = 200_000,
                     modes: tuple[tuple[str, int, int], ...] = MODES, every: int = 10) -> dict[str, object]:
    """Sustained accepted events/s per post shape, the raw producer baseline, and ingest RSS.
    Events are posted for every ``every``-th team of the demo org, from ``PHONES`` phones in all."""
    dsn = await bench.fresh_database()
    ingest = bench.service("tally06_ingest", dsn, "TALLY06_INGEST_PORT", TALLY06_INGEST_WORKERS=INGEST_WORKERS)
    relay = bench.service("tally06_ingest.relay", dsn, "TALLY06_RELAY_PORT")
    conn = await asyncpg.connect(dsn)
    try:
        await ingest.ready()
        await relay.ready()
        workload = Workload(await issue_tokens(dsn, every, PHONES))
        cpu = CpuMeter({"ingest": ingest.process.pid, "relay": relay.process.pid, **bench.component_pids(),
                        "load_generator": os.getpid()}, alone=frozenset({"load_generator"}))
        result: dict[str, object] = {"workers": int(INGEST_WORKERS), "device_tokens": workload.phones,
                                     "token_limits": token_limits()}

        raw_bodies: list[Body] = []
        if raw_events:
            # The baseline sends these events; the batch-500 window then posts the very same bodies.
            raw_bodies = workload.bodies(raw_events // 500, 500)
            result["raw_producer"] = await raw_producer(bench.broker.bootstrap, raw_bodies)

        for name, size, clients in modes:
            # Warm-up: connections, caches, and an estimate of how many bodies the window needs.
            warm = await closed_loop(ingest.url, workload, workload.bodies(clients * 6, size), clients, 60,
                                     top_up=False)
            needed = int(warm["eps"] * seconds * 2 / size) + clients
            reuse = raw_bodies if size == 500 else []
            bodies = reuse + workload.bodies(max(0, needed - len(reuse)), size)
            before = cpu.read()
            measured = await closed_loop(ingest.url, workload, bodies, clients, seconds)
            measured["cpu_cores"] = cpu.share(before, cpu.read(), measured["seconds"])
            measured["posts_per_token_s"] = measured["posts"] / workload.phones / measured["seconds"]
            result[name] = measured

        # Everything accepted reaches the broker: wait for the relay to catch up.
        caught_up = time.perf_counter()
        while (backlog := await relay_backlog(conn)) > 0:
            if time.perf_counter() - caught_up > 120:
                raise TimeoutError(f"relay still {backlog} events behind after 120 s")
            await asyncio.sleep(0.2)
        result["relay_catch_up_s"] = time.perf_counter() - caught_up
        result["stored_events"] = await conn.fetchval("SELECT last_seq FROM event_seq")
        result["memory_mb"] = ingest.rss_mb()
        result["relay_memory_mb"] = relay.rss_mb()
        return result
    finally:
        await conn.close()
        stop_all(relay, ingest)


def stop_all(*services: Service) -> None:
    for service in services:
        service.stop()
