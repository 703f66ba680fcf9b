"""Freshness: from an event's scheduled POST to its count being visible in the read model.

Batches are sent on a fixed schedule and latency is measured from the scheduled time, so a
sender that falls behind does not hide the delay (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import statistics
import time

import asyncpg
import httpx

from bench.components import Bench
from tally06.org import UnitKind
from tally06.reference import demo_org
from tally06.tokens import issue_token
from tests.support import factories


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": cuts[49] * 1000, "p95": cuts[94] * 1000, "p99": cuts[98] * 1000}


async def measure_freshness(bench: Bench, *, rate_eps: float, seconds: float, batch: int = 20) -> dict[str, float]:
    dsn = await bench.fresh_database()
    ingest = bench.service("tally06_ingest", dsn, "TALLY06_INGEST_PORT")
    relay = bench.service("tally06_ingest.relay", dsn)
    aggregator = bench.service("tally06_aggregator", dsn, "TALLY06_AGGREGATOR_PORT",
                               TALLY06_AGGREGATOR_APP_ID=f"fresh-{time.time_ns()}")
    conn = await asyncpg.connect(dsn)
    try:
        await ingest.ready()
        await aggregator.ready()
        teams = [u.code for u in demo_org().units(UnitKind.TEAM)][::10]
        tokens = {t: (await issue_token(conn, t))[1] for t in teams}
        pending: dict[tuple[str, int], float] = {}
        samples: list[float] = []
        async with httpx.AsyncClient(base_url=ingest.url, timeout=10) as client:
            # Warm-up: wait until the aggregator has joined its group and counts.
            await _post(client, tokens, teams[0], 1)
            while not await conn.fetchval("SELECT count(*) FROM projection_positions WHERE position > 0"):
                await asyncio.sleep(0.1)
            interval = batch / rate_eps
            start = time.perf_counter()
            total = int(seconds / interval)

            async def send(n: int) -> None:
                scheduled = start + n * interval
                await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
                team = teams[n % len(teams)]
                seq = await _post(client, tokens, team, batch)
                pending[(team.split("-C")[0], seq)] = scheduled

            senders = [asyncio.create_task(send(n)) for n in range(total)]
            while senders and not all(s.done() for s in senders) or pending:
                rows = await conn.fetch("SELECT key, position FROM projection_positions")
                now = time.perf_counter()
                positions = {r["key"]: r["position"] for r in rows}
                for key in [k for k in pending if positions.get(k[0], 0) >= k[1]]:
                    samples.append(now - pending.pop(key))
                await asyncio.sleep(0.01)
            await asyncio.gather(*senders)
        return {**percentiles(samples), "samples": len(samples), "rate_eps": rate_eps}
    finally:
        await conn.close()
        for service in (aggregator, relay, ingest):
            service.stop()


async def _post(client: httpx.AsyncClient, tokens: dict[str, str], team: str, size: int) -> int:
    events = [factories.event(team=team) for _ in range(size)]
    response = await client.post("/v1/events", json={"events": events},
                                 headers={"Authorization": f"Bearer {tokens[team]}"})
    response.raise_for_status()
    return max(r["seq"] for r in response.json()["results"])
