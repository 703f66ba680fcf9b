"""Counters equal a ground truth computed independently, under redelivery, late and
out-of-order events, duplicate claims, SIGKILLs, two workers, and broker faults on Apache Kafka:
the broker killed under load (it keeps its log), the topics recreated and the cluster rebuilt
empty (the log lost: the relay publishes everything again under a new broker epoch)."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import sys
from collections.abc import Callable, Collection

import asyncpg
import httpx
import pytest

from tally06.kit.topic_admin import ensure_topics
from tests.conftest import service_env
from tests.support import factories, ground_truth
from tests.support.kafka import forget_topics, read_progress
from tests.support.relay_state import broker_epoch

TEAMS = ["TH-01-C01-T1", "TH-01-C02-T2", "TH-03-C01-T1", "TH-03-C02-T3", "TH-14-C01-T2", "TH-27-C05-T1"]
TYPES = [("app_installed", None), ("registration_collected", 2), ("application_approved", 2),
         ("account_activated", 1), ("account_activated", 2)]


class Field:
    """Field devices posting a messy stream: retries, late batches, claims on others' citizens."""

    def __init__(self, url: str, tokens: dict[str, str], seed: int = 6) -> None:
        self.url, self.tokens = url, tokens
        self.teams = list(tokens)
        self.rng = random.Random(seed)
        self.citizens = [factories.citizen() for _ in range(300)]
        self.accepted: list[tuple[int, dict]] = []
        self.recorded: set[str] = set()
        self.sent: list[tuple[str, list[dict]]] = []

    def _event(self, team: str, now: dt.datetime) -> dict:
        kind, level = self.rng.choice(TYPES)
        # Late events: up to three days old, in random order within a batch.
        occurred = now - dt.timedelta(minutes=self.rng.randrange(0, 3 * 24 * 60))
        return factories.event(team=team, type=kind, level=level, occurred_at=occurred,
                               officer=f"CA-{team}-{self.rng.randrange(3)}",
                               citizen_body=self.rng.choice(self.citizens))

    async def _post(self, client: httpx.AsyncClient, team: str, events: list[dict]) -> None:
        while True:
            try:
                response = await client.post(f"{self.url}/v1/events", json={"events": events},
                                             headers={"Authorization": f"Bearer {self.tokens[team]}"})
                if response.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
        for result in response.json()["results"]:
            # A try whose answer was lost (the database or ingest went away after the commit)
            # makes the retry answer "duplicate": the event is stored all the same.
            if result["status"] in ("accepted", "duplicate") and result["event_id"] not in self.recorded:
                self.recorded.add(result["event_id"])
                self.accepted.append((result["seq"], events[result["index"]]))

    async def stream(self, batches: int, size: int = 40, pause_s: float = 0.01) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(batches):
                team = self.rng.choice(self.teams)
                now = dt.datetime.now(dt.UTC)
                if self.sent and self.rng.random() < 0.15:  # a phone resends an old batch
                    team, events = self.rng.choice(self.sent)
                else:
                    events = [self._event(team, now) for _ in range(size)]
                    self.sent.append((team, events))
                await self._post(client, team, events)
                await asyncio.sleep(pause_s)


async def field_for(service, make_token) -> Field:
    return Field(service.url, {team: await make_token(team) for team in TEAMS})


async def pipeline(broker, start_service, make_token) -> Field:
    """Ingest, relay and one aggregator on ``broker``; the field devices that post to ingest."""
    ingest = start_service("ingest", bootstrap=broker.bootstrap)
    start_service("relay", bootstrap=broker.bootstrap)
    start_service("aggregator", bootstrap=broker.bootstrap)
    return await field_for(ingest, make_token)


async def assert_exact(database: str, field: Field, timeout_s: float = 90,
                       units: Callable[[str], list[str]] = ground_truth.units_of, *,
                       registry_pending: bool = True) -> None:
    expected = ground_truth.count(field.accepted, units, registry_pending=registry_pending)
    conn = await asyncpg.connect(database)
    try:
        for _ in range(int(timeout_s * 4)):
            actual = await ground_truth.read_model(conn)
            if actual == expected:
                return
            await asyncio.sleep(0.25)
        for name in expected:
            missing = expected[name] - actual[name]
            extra = actual[name] - expected[name]
            assert not missing and not extra, (name, list(missing.items())[:5], list(extra.items())[:5])
    finally:
        await conn.close()


async def test_counters_equal_the_ground_truth(own_broker, start_service, make_token, database):
    field = await pipeline(own_broker, start_service, make_token)
    await field.stream(batches=60)
    assert any(kind == "claims" for *_, kind in ground_truth.count(field.accepted)["unit_total"])
    await assert_exact(database, field)
    # The progress stream ends with the same cumulative figures as the read model.
    expected = {m: (expected_count(field, m, "credited"), expected_count(field, m, "claims"))
                for m in ("installed", "collected_l2", "approved_l2", "activated_l1", "activated_l2")}
    for _ in range(20):
        if await latest_province_totals(own_broker.bootstrap, expected) == expected:
            break
        await asyncio.sleep(0.5)
    assert await latest_province_totals(own_broker.bootstrap, expected) == expected


def expected_count(field: Field, metric: str, kind: str) -> int:
    return ground_truth.count(field.accepted)["unit_total"][("TH", metric, kind)]


async def latest_province_totals(bootstrap: str, metrics: Collection[str]) -> dict[str, tuple[int, int]]:
    newest: dict[str, tuple[int, int, int]] = {}
    for change in await read_progress(bootstrap):
        if change.unit == "TH":
            for metric, count in change.total.items():
                if metric.value in metrics and count.version > newest.get(metric.value, (-1,))[0]:
                    newest[metric.value] = (count.version, count.credited, count.claims)
    return {m: (c, k) for m, (_, c, k) in newest.items()}


@pytest.mark.slow
async def test_exact_after_repeated_sigkills_of_the_aggregator(own_broker, start_service, make_token, database):
    ingest = start_service("ingest", bootstrap=own_broker.bootstrap)
    start_service("relay", bootstrap=own_broker.bootstrap)
    aggregator = start_service("aggregator", bootstrap=own_broker.bootstrap)
    field = await field_for(ingest, make_token)
    load = asyncio.create_task(field.stream(batches=150, pause_s=0.02))
    rng = random.Random(3)
    for _ in range(3):
        await asyncio.sleep(rng.uniform(1, 2.5))
        aggregator.kill()
        aggregator.start(timeout_s=60)
    await load
    await assert_exact(database, field)


@pytest.mark.slow
async def test_exact_with_two_workers_when_one_dies(own_broker, start_service, make_token, database):
    ingest = start_service("ingest", bootstrap=own_broker.bootstrap)
    start_service("relay", bootstrap=own_broker.bootstrap)
    first = start_service("aggregator", bootstrap=own_broker.bootstrap)
    start_service("aggregator", bootstrap=own_broker.bootstrap)
    field = await field_for(ingest, make_token)
    load = asyncio.create_task(field.stream(batches=120, pause_s=0.02))
    await asyncio.sleep(2)
    first.kill()
    await load
    await assert_exact(database, field, timeout_s=120)


@pytest.mark.slow
async def test_exact_when_the_broker_is_killed_under_load(own_broker, start_service, make_token, database):
    field = await pipeline(own_broker, start_service, make_token)
    load = asyncio.create_task(field.stream(batches=80, pause_s=0.02))
    await asyncio.sleep(2)
    await asyncio.to_thread(own_broker.kill)
    await asyncio.sleep(2)
    await asyncio.to_thread(own_broker.start)  # with its log: the relay goes on where it was
    await load
    await assert_exact(database, field, timeout_s=120)
    assert await broker_epoch(database) == 0


@pytest.mark.slow
async def test_exact_when_the_topics_are_recreated_under_load(own_broker, start_service, make_token, database):
    """The relay finds the log gone (its offsets start again, or its probe misses the message),
    publishes everything again under a new broker epoch, and the aggregator reads the new log
    from the start: what it counted before is skipped, the rest counted once."""
    ingest = start_service("ingest", bootstrap=own_broker.bootstrap)
    start_service("relay", bootstrap=own_broker.bootstrap, TALLY06_RELAY_PROBE_INTERVAL_S="1")
    start_service("aggregator", bootstrap=own_broker.bootstrap, TALLY06_EPOCH_CHECK_S="0.5")
    field = await field_for(ingest, make_token)
    await field.stream(batches=20)
    await assert_exact(database, field)
    load = asyncio.create_task(field.stream(batches=40, pause_s=0.02))
    await asyncio.sleep(1)
    await forget_topics(own_broker.bootstrap)
    await ensure_topics(own_broker.bootstrap)
    await load
    await assert_exact(database, field, timeout_s=120)
    assert await broker_epoch(database) >= 1


@pytest.mark.slow
async def test_facts_only_the_lost_log_held_are_counted_after_the_cluster_is_rebuilt(
        own_broker, start_service, make_token, database):
    """Facts published while the aggregator was down exist only in the broker's log; the cluster
    is then rebuilt empty, under load. The relay must publish them again and the aggregator,
    started on the new cluster, count them once."""
    ingest = start_service("ingest", bootstrap=own_broker.bootstrap)
    start_service("relay", bootstrap=own_broker.bootstrap, TALLY06_RELAY_PROBE_INTERVAL_S="1")
    aggregator = start_service("aggregator", bootstrap=own_broker.bootstrap)
    field = await field_for(ingest, make_token)
    await field.stream(batches=20)
    await assert_exact(database, field)
    aggregator.kill()
    load = asyncio.create_task(field.stream(batches=40, pause_s=0.02))
    await asyncio.sleep(1)
    await asyncio.to_thread(own_broker.wipe)
    await asyncio.to_thread(own_broker.start)
    await load
    aggregator.start(timeout_s=60)
    await assert_exact(database, field, timeout_s=120)
    assert await broker_epoch(database) >= 1


@pytest.mark.slow
async def test_rebuild_restores_a_damaged_view_while_live(own_broker, start_service, make_token, database):
    field = await pipeline(own_broker, start_service, make_token)
    await field.stream(batches=40)
    await assert_exact(database, field)
    conn = await asyncpg.connect(database)
    try:
        await conn.execute("UPDATE unit_total SET credited = credited + 1000 WHERE unit = 'TH'")
        await conn.execute("DELETE FROM unit_daily WHERE unit LIKE 'TH-01%'")
    finally:
        await conn.close()
    load = asyncio.create_task(field.stream(batches=40))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tally06", "rebuild", env=service_env(database, own_broker.bootstrap),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert "rebuilt from" in out.decode()
    await load
    await assert_exact(database, field)
