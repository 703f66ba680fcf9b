"""The outbox relay on Apache Kafka: order, a broker killed under load (it keeps its log: nothing
is published again), the log lost (topics recreated, the cluster rebuilt empty: everything is),
leadership."""

from __future__ import annotations

import asyncio
import collections

import asyncpg
import httpx
import orjson
import pytest

from tally06.contract.events import fact_dicts
from tally06.contract.topics import FACTS
from tally06.kit.topic_admin import ensure_topics
from tally06.stack.embedded.kafka import EmbeddedKafka
from tests.support import factories
from tests.support.kafka import forget_topics, read_records, wait_for_facts
from tests.support.relay_state import broker_epoch

TEAMS = ["TH-01-C01-T1", "TH-03-C01-T1", "TH-05-C02-T2", "TH-27-C03-T3"]


class FieldDevices:
    """Posts batches for several teams, retrying a batch until it gets an answer, like phones."""

    def __init__(self, url: str, tokens: dict[str, str]) -> None:
        self.url = url
        self.tokens = tokens
        self.accepted: set[str] = set()
        self.answered = 0

    async def post_batch(self, client: httpx.AsyncClient, team: str, size: int) -> None:
        events = [factories.event(team=team) for _ in range(size)]
        while True:
            try:
                response = await client.post(
                    f"{self.url}/v1/events", json={"events": events},
                    headers={"Authorization": f"Bearer {self.tokens[team]}"})
            except httpx.TransportError:
                await asyncio.sleep(0.2)
                continue
            if response.status_code == 200:
                break
            await asyncio.sleep(0.2)
        for result in response.json()["results"]:
            assert result["status"] in ("accepted", "duplicate"), result
            self.accepted.add(result["event_id"])
        self.answered += 1

    async def stream(self, batches: int, size: int = 20, pause_s: float = 0.02) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            for n in range(batches):
                await self.post_batch(client, TEAMS[n % len(TEAMS)], size)
                await asyncio.sleep(pause_s)


async def devices_for(service, make_token) -> FieldDevices:
    return FieldDevices(service.url, {team: await make_token(team) for team in TEAMS})


async def wait_published(database: str, timeout_s: float = 60) -> None:
    conn = await asyncpg.connect(database)
    try:
        for _ in range(int(timeout_s * 10)):
            row = await conn.fetchrow("SELECT (SELECT last_seq FROM event_seq) AS last, position FROM relay_state")
            if row["last"] == row["position"]:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"relay stuck at {row['position']} of {row['last']}")
    finally:
        await conn.close()


async def wait_some_published(database: str, timeout_s: float = 30) -> None:
    conn = await asyncpg.connect(database)
    try:
        for _ in range(int(timeout_s * 10)):
            if await conn.fetchval("SELECT position FROM relay_state") > 0:
                return
            await asyncio.sleep(0.1)
        raise AssertionError("relay published nothing")
    finally:
        await conn.close()


async def records_by_partition(bootstrap: str) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = collections.defaultdict(list)
    for record in await read_records(bootstrap, FACTS.name, idle_s=1.0):
        document = orjson.loads(record.value)
        out[record.partition].append(
            {"key": document["key"], "prev_seq": document["prev_seq"], "facts": fact_dicts(record.value)})
    return out


async def test_facts_flow_in_sequence_order_per_commune(own_broker, start_service, make_token, database):
    ingest = start_service("ingest", bootstrap=own_broker.bootstrap)
    devices = await devices_for(ingest, make_token)
    await devices.stream(batches=12)
    relay = start_service("relay", bootstrap=own_broker.bootstrap)
    await wait_published(database)
    async with httpx.AsyncClient(base_url=relay.url) as client:
        ready = (await client.get("/readyz")).json()
        assert ready["status"] == "ready" and ready["leading"] is True and ready["backlog"] == 0
        assert b"tally06_relay_published_events_total" in (await client.get("/metrics")).content

    messages = await records_by_partition(own_broker.bootstrap)
    seen: dict[str, list[int]] = collections.defaultdict(list)
    for records in messages.values():
        for message in records:
            assert {f["lineage"][2] for f in message["facts"]} == {message["key"]}  # the commune
            # Each message names the key's fact before it: a chain a consumer can check.
            assert message["prev_seq"] == (seen[message["key"]] or [0])[-1]
            seen[message["key"]].extend(f["seq"] for f in message["facts"])
    for key, seqs in seen.items():
        assert seqs == sorted(seqs), key
    published = {f["event_id"] for m in sum(messages.values(), []) for f in m["facts"]}
    assert published == devices.accepted
    assert "citizen" not in orjson.dumps(messages[next(iter(messages))][0]).decode().replace("citizen_key", "")


@pytest.mark.slow
async def test_broker_killed_under_load_comes_back_with_its_log(own_broker, start_service, make_token, database):
    ingest = start_service("ingest", bootstrap=own_broker.bootstrap)
    relay = start_service("relay", bootstrap=own_broker.bootstrap, TALLY06_RELAY_PROBE_INTERVAL_S="1")
    devices = await devices_for(ingest, make_token)
    load = asyncio.create_task(devices.stream(batches=120))
    await wait_some_published(database)
    await asyncio.to_thread(own_broker.kill)
    answered_before = devices.answered
    await asyncio.sleep(3)
    # Ingest kept accepting while the broker was away.
    assert devices.answered > answered_before + 10
    await asyncio.to_thread(own_broker.start)  # with the log it had on disk
    await load
    await wait_published(database, timeout_s=90)
    published = [f["event_id"] for records in (await records_by_partition(own_broker.bootstrap)).values()
                 for message in records for f in message["facts"]]
    assert set(published) == devices.accepted
    # Nothing was lost, so nothing was published again: what a retry did publish twice carries
    # the same sequence number, which consumers skip.
    assert await broker_epoch(database) == 0
    assert "broker_log_lost" not in relay.log_tail(1_000_000)
    print(f"\n{len(devices.accepted)} events, {len(published) - len(set(published))} published twice by retries")


async def recreate_topics(broker: EmbeddedKafka) -> None:
    """An operator deletes the topics and creates them anew: same names, empty logs."""
    await forget_topics(broker.bootstrap)
    await ensure_topics(broker.bootstrap)


async def rebuild_cluster(broker: EmbeddedKafka) -> None:
    """New disks, a new cluster id, nothing of the old log."""
    await asyncio.to_thread(broker.wipe)
    await asyncio.to_thread(broker.start)


@pytest.mark.slow
@pytest.mark.parametrize("lose_log", [recreate_topics, rebuild_cluster], ids=["topics_recreated", "cluster_rebuilt"])
async def test_log_lost_while_idle_is_noticed_and_republished(lose_log, own_broker, start_service, make_token,
                                                              database):
    ingest = start_service("ingest", bootstrap=own_broker.bootstrap)
    relay = start_service("relay", bootstrap=own_broker.bootstrap, TALLY06_RELAY_PROBE_INTERVAL_S="1")
    devices = await devices_for(ingest, make_token)
    await devices.stream(batches=8)
    await wait_published(database)
    await lose_log(own_broker)
    # No new event arrives: only the probe can notice that the log is gone.
    found = await wait_for_facts(own_broker.bootstrap, devices.accepted, timeout_s=60)
    assert set(found) == devices.accepted
    assert await broker_epoch(database) == 1
    assert "broker_log_lost_republishing" in relay.log_tail(1_000_000)


@pytest.mark.slow
async def test_second_relay_takes_over_when_the_leader_dies(own_broker, start_service, make_token, database):
    ingest = start_service("ingest", bootstrap=own_broker.bootstrap)
    leader = start_service("relay", bootstrap=own_broker.bootstrap)
    await asyncio.sleep(1.5)
    standby = start_service("relay", bootstrap=own_broker.bootstrap)
    devices = await devices_for(ingest, make_token)
    await devices.stream(batches=5)
    await wait_published(database)
    leader.kill()
    await devices.stream(batches=5)
    await wait_published(database, timeout_s=30)
    found = await wait_for_facts(own_broker.bootstrap, devices.accepted, timeout_s=30)
    assert set(found) == devices.accepted
    assert "relay_leading" in standby.log_tail(100_000)
