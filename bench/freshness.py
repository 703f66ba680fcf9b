"""Freshness: from an event's scheduled POST to its count being visible.

Posts are sent on a fixed schedule (open loop) and latency is measured from the scheduled time,
so a sender or a server that falls behind does not hide the delay (no coordinated omission).

Two places are watched at once:
- the wallboard's read API (``GET /v1/units/{province}/children``: cumulative activations plus
  duplicate claims per district of the bench's map, the 2023 demo map), when the wallboard can
  run here: a post is visible once its district's figure reaches the count of every event of
  that district up to the post's last sequence number;
- the read model in PostgreSQL: a post is visible once the aggregator has committed the
  position of the post's fact key (the team's commune: facts are keyed and their positions
  kept per commune) at or past the post's last sequence number (counters and position commit
  in one transaction).
The headline percentiles are the read API's when it ran, else the read model's
(``visible_in`` says which).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg
import httpx
import orjson

from bench.components import Bench, Service, module_runnable
from bench.ingest import INGEST_WORKERS, Body, CpuMeter, Workload, issue_tokens, open_loop_session
from tally06.domain.accounts import Role
from tests.support.sessions import bearer, make_user

READ_MODEL = "postgresql read model (projection_positions, committed with the counters)"
READ_API = "wallboard read API (GET /v1/units/{province}/children, polled every 50 ms)"
API_POLL_S = 0.05


def percentiles(samples: list[float]) -> dict[str, float]:
    if len(samples) < 2:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan"), "max": float("nan")}
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": cuts[49] * 1000, "p95": cuts[94] * 1000, "p99": cuts[98] * 1000, "max": max(samples) * 1000}


@dataclass
class Post:
    n: int
    district: str  # whose read-API figure shows it
    key: str  # whose projection position shows it (the fact key: the commune)
    size: int
    scheduled: float
    seq: int = 0
    waits: set[int] = field(default_factory=set)  # posts of the district in flight when this one was answered


class Visibility:
    """Posts of one load and when each became visible in the read model and the read API."""

    def __init__(self, base: dict[str, int] | None) -> None:
        self.base = base or {}  # per district: the read API's figure before the load
        self.track_api = base is not None
        self.posts: dict[int, Post] = {}
        self.in_flight: dict[str, set[int]] = {}
        self.answered: set[int] = set()
        self.pending_model: set[int] = set()
        self.pending_api: set[int] = set()
        self.model: list[float] = []
        self.api: list[float] = []

    def sent(self, post: Post) -> None:
        self.posts[post.n] = post
        self.in_flight.setdefault(post.district, set()).add(post.n)

    def answer(self, post: Post, seq: int) -> None:
        post.seq = seq
        flying = self.in_flight[post.district]
        flying.discard(post.n)
        post.waits = set(flying)
        self.answered.add(post.n)
        self.pending_model.add(post.n)
        if self.track_api:
            self.pending_api.add(post.n)

    def see_positions(self, positions: dict[str, int], now: float) -> None:
        for n in [n for n in self.pending_model if positions.get(self.posts[n].key, 0) >= self.posts[n].seq]:
            self.pending_model.discard(n)
            self.model.append(now - self.posts[n].scheduled)

    def see_figures(self, figures: dict[str, int], now: float) -> None:
        for n in list(self.pending_api):
            post = self.posts[n]
            if not post.waits <= self.answered:
                continue  # a post of this district that may precede it in sequence is unanswered
            needed = self.base.get(post.district, 0) + sum(
                p.size for p in self.posts.values()
                if p.district == post.district and p.n in self.answered and p.seq <= post.seq)
            if figures.get(post.district, 0) >= needed:
                self.pending_api.discard(n)
                self.api.append(now - post.scheduled)


async def signed_in_board(dsn: str, url: str) -> httpx.AsyncClient:
    """A client of the read API signed in as a new province operator (the read API answers only
    signed-in users; a session lasts longer than a benchmark section)."""
    headers = await bearer(url, await make_user(dsn, Role.PROVINCE_OPERATOR, "TH"))
    return httpx.AsyncClient(base_url=url, timeout=60, headers=headers)


async def board_figures(client: httpx.AsyncClient) -> dict[str, int]:
    """Cumulative activations plus duplicate claims per district, as the wallboard shows them."""
    figures: dict[str, int] = {}
    for root in (await client.get("/v1/units")).raise_for_status().json():
        ranking = (await client.get(f"/v1/units/{root['code']}/children")).raise_for_status().json()
        for entry in ranking["entries"]:
            figures[entry["unit"]["code"]] = (entry["campaign"]["activated"]["total"]
                                              + entry["duplicate_claims"]["total"])
    return figures


async def open_loop(client: aiohttp.ClientSession, conn: asyncpg.Connection, board: httpx.AsyncClient | None,
                    workload: Workload, bodies: list[Body], rate_eps: float) -> dict[str, Any]:
    """Post ``bodies`` at ``rate_eps`` events/s on a fixed schedule; latency to visible counts."""
    size = len(bodies[0].events)
    interval = size / rate_eps
    seen = Visibility(await board_figures(board) if board is not None else None)
    accept: list[float] = []
    poll_s: list[float] = []
    start = time.perf_counter() + 0.2

    async def send(n: int, body: Body) -> None:
        post = Post(n, body.district, body.fact_key, len(body.events), start + n * interval)
        await asyncio.sleep(max(0.0, post.scheduled - time.perf_counter()))
        seen.sent(post)
        async with client.post("/v1/events", data=body.content, headers=workload.headers(body)) as response:
            content = await response.read()
        accept.append(time.perf_counter() - post.scheduled)
        if response.status != 200:
            raise AssertionError(f"ingest answered {response.status}: {content[:300]!r}")
        answer = orjson.loads(content)
        if answer["totals"]["accepted"] != len(body.events):
            raise AssertionError(f"ingest answered {answer['totals']} for {len(body.events)} new events")
        seen.answer(post, max(r["seq"] for r in answer["results"]))

    async def watch_model() -> None:
        while True:
            rows = await conn.fetch("SELECT key, position FROM projection_positions")
            seen.see_positions({r["key"]: r["position"] for r in rows}, time.perf_counter())
            await asyncio.sleep(0.01)

    async def watch_api() -> None:
        # One board polling every API_POLL_S (start to start): often enough to time a figure,
        # rarely enough not to load a 2-core machine with the observer.
        while board is not None:
            asked = time.perf_counter()
            figures = await board_figures(board)
            now = time.perf_counter()
            poll_s.append(now - asked)
            seen.see_figures(figures, now)
            await asyncio.sleep(max(0.0, asked + API_POLL_S - now))

    senders = [asyncio.create_task(send(n, body)) for n, body in enumerate(bodies)]
    watchers = [asyncio.create_task(watch_model()), asyncio.create_task(watch_api())]
    deadline = start + len(bodies) * interval + 120
    try:
        while not all(s.done() for s in senders) or seen.pending_model or seen.pending_api:
            for task in (*senders, *watchers):
                if task.done() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{len(seen.pending_model)} posts not in the read model, "
                                   f"{len(seen.pending_api)} not in the read API 120 s after the last was due")
            await asyncio.sleep(0.05)
    finally:
        for task in (*senders, *watchers):
            task.cancel()
        for task in watchers:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    accept.sort()
    model = {**percentiles(seen.model), "samples": len(seen.model)}
    result: dict[str, Any] = {"rate_eps": rate_eps, "events_per_post": size,
                              "accept_p99_ms": accept[int(len(accept) * 0.99)] * 1000, "read_model": model}
    if board is not None:
        poll_s.sort()
        result |= {**percentiles(seen.api), "samples": len(seen.api),
                   "api_poll_ms": {"p50": poll_s[len(poll_s) // 2] * 1000, "max": poll_s[-1] * 1000,
                                   "interval": API_POLL_S * 1000}}
    else:
        result |= model
    return result


async def start_wallboard(bench: Bench, dsn: str) -> tuple[Service | None, str]:
    if not module_runnable("tally06_wallboard"):
        return None, "tally06_wallboard cannot be run with python -m here"
    # The observer polls twice per API_POLL_S, above a person's request budget; it is a measuring
    # instrument, so its budget is raised rather than its polls slowed.
    wallboard = bench.service("tally06_wallboard", dsn, "TALLY06_WALLBOARD_PORT",
                              TALLY06_USER_RATE_PER_S="1000", TALLY06_USER_RATE_BURST="1000")
    try:
        await wallboard.ready(timeout_s=60)
    except (RuntimeError, TimeoutError) as exc:
        wallboard.stop()
        return None, f"wallboard did not start: {str(exc)[:500]}"
    return wallboard, ""


async def measure_freshness(bench: Bench, *, loads: dict[str, float], seconds: float,
                            batch: int = 100) -> dict[str, Any]:
    """Freshness percentiles per named load (events/s), all against one running stack."""
    dsn = await bench.fresh_database()
    ingest = bench.service("tally06_ingest", dsn, "TALLY06_INGEST_PORT", TALLY06_INGEST_WORKERS=INGEST_WORKERS)
    relay = bench.service("tally06_ingest.relay", dsn, "TALLY06_RELAY_PORT")
    aggregator = bench.service("tally06_aggregator", dsn, "TALLY06_AGGREGATOR_PORT",
                               TALLY06_AGGREGATOR_APP_ID=f"fresh-{time.time_ns()}")
    wallboard, why_not = await start_wallboard(bench, dsn)
    conn = await asyncpg.connect(dsn)
    try:
        await ingest.ready()
        await relay.ready()
        await aggregator.ready()
        workload = Workload(await issue_tokens(dsn))
        results: dict[str, Any] = {"visible_in": READ_API if wallboard else READ_MODEL}
        if why_not:
            results["read_api_note"] = why_not
        async with contextlib.AsyncExitStack() as stack:
            # aiohttp, as in the ingest section: at 80 % load httpx's pool with a couple of
            # hundred connections took most of a core, and the sender fell behind its own schedule.
            client = await stack.enter_async_context(open_loop_session(ingest.url))
            board = (await stack.enter_async_context(await signed_in_board(dsn, wallboard.url))
                     if wallboard else None)
            # Warm-up: the aggregator joins its group and counts; connections open.
            await open_loop(client, conn, board, workload, workload.bodies(5, batch), rate_eps=batch * 5)
            services = {"ingest": ingest, "relay": relay, "aggregator": aggregator, "wallboard": wallboard}
            cpu = CpuMeter({**{n: s.process.pid for n, s in services.items() if s is not None},
                            **bench.component_pids(), "load_generator": os.getpid()},
                           alone=frozenset({"load_generator"}))
            for name, rate in loads.items():
                posts = max(20, int(seconds * rate / batch))
                bodies = workload.bodies(posts, batch)  # before the clock starts
                before, began = cpu.read(), time.perf_counter()
                results[name] = await open_loop(client, conn, board, workload, bodies, rate)
                results[name]["cpu_cores"] = cpu.share(before, cpu.read(), time.perf_counter() - began)
        return results
    finally:
        await conn.close()
        for service in (wallboard, aggregator, relay, ingest):
            if service is not None:
                service.stop()
