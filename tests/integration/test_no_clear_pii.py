"""After every other test: no clear CCCD or phone in any log line, topic message or table
(other than the encrypted personal-data table)."""

from __future__ import annotations

import re

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from tally06.contract.topics import ALL_TOPICS
from tally06.kit.topic_partitions import topic_partitions
from tests.support import factories
from tests.support.kafka import wait_for_facts
from tests.support.services import LOG_DIR

pytestmark = pytest.mark.after_all

ENCRYPTED_TABLES = {"citizen_pii"}


# Standalone: not inside a longer run of letters or digits. Hex digests and tokens hold runs of
# ten decimal digits now and then, and with 100,000 values issued one of them matches by chance.
_NUMBERS = re.compile(rb"(?<![0-9A-Za-z])(?:[0-9]{12}|[0-9]{10})(?![0-9A-Za-z])")


class _Leaks:
    """Finds the CCCDs and phones the tests used, as a value stands in JSON, logs and rows."""

    def __init__(self) -> None:
        self.values = {v.encode() for v in factories.ISSUED_CCCDS | factories.ISSUED_PHONES}
        assert self.values, "the scan needs the values the tests used"

    def search(self, data: bytes) -> bool:
        return any(m in self.values for m in _NUMBERS.findall(data))


def _pattern() -> _Leaks:
    return _Leaks()


async def test_no_clear_personal_data_on_topics(broker, start_service, make_token):
    # Publish a batch of our own, so the scan never passes on an empty topic.
    ingest = start_service("ingest")
    start_service("relay")
    token = await make_token("TH-03-C01-T1")
    events = [factories.event() for _ in range(20)]
    async with httpx.AsyncClient(base_url=ingest.url, headers={"Authorization": f"Bearer {token}"}) as client:
        assert (await client.post("/v1/events", json={"events": events})).status_code == 200
    assert len(await wait_for_facts(broker.bootstrap, {e["event_id"] for e in events})) == 20
    pattern = _pattern()
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False)
    await consumer.start()
    scanned = 0
    try:
        tps = [TopicPartition(t.name, p) for t in ALL_TOPICS for p in await topic_partitions(consumer, t.name)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        while batch := await consumer.getmany(timeout_ms=1000):
            for records in batch.values():
                for record in records:
                    scanned += 1
                    assert not pattern.search(record.value or b""), record.topic
                    assert not pattern.search(record.key or b"")
    finally:
        await consumer.stop()
    assert scanned > 0


async def test_no_clear_personal_data_in_logs():
    pattern = _pattern()
    leaks = [p.name for p in LOG_DIR.rglob("*") if p.is_file() and pattern.search(p.read_bytes())]
    assert leaks == []


async def test_no_clear_personal_data_in_tables(postgres_server):
    pattern = _pattern()
    admin = await asyncpg.connect(f"{postgres_server}/postgres")
    try:
        names = [r["datname"] for r in await admin.fetch("SELECT datname FROM pg_database WHERE datname LIKE 't\\_%'")]
    finally:
        await admin.close()
    scanned = 0
    for name in names:
        conn = await asyncpg.connect(f"{postgres_server}/{name}")
        try:
            tables = [r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
            for table in set(tables) - ENCRYPTED_TABLES:
                for row in await conn.fetch(f'SELECT t::text AS line FROM "{table}" t'):
                    scanned += 1
                    assert not pattern.search(row["line"].encode()), f"{name}.{table}"
        finally:
            await conn.close()
    assert scanned > 0
