"""The scan for leaked personal data: no CCCD or phone the tests issued stands in clear in a log
line, a topic message or a table (other than the encrypted personal-data table).

It runs when a test process ends (``tests/conftest.py``, ``no_clear_personal_data_left``), over
what that process made: its services' logs and its PostgreSQL server's test databases; the
shared broker's topics are scanned after each test, before the next one empties them.
With the suite spread over processes each scans its own, with the values it issued.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from tally06.contract.topics import ALL_TOPICS
from tally06.kit.topic_partitions import topic_partitions
from tests.support import factories

ENCRYPTED_TABLES = {"citizen_pii"}

# Standalone: not inside a longer run of letters or digits. Hex digests and tokens hold runs of
# ten decimal digits now and then, and with 100,000 values issued one of them matches by chance.
_NUMBERS = re.compile(rb"(?<![0-9A-Za-z])(?:[0-9]{12}|[0-9]{10})(?![0-9A-Za-z])")


class Leaks:
    """Finds the CCCDs and phones the tests used, as a value stands in JSON, logs and rows."""

    def __init__(self) -> None:
        self.values = {v.encode() for v in factories.ISSUED_CCCDS | factories.ISSUED_PHONES}

    def search(self, data: bytes) -> bool:
        return any(m in self.values for m in _NUMBERS.findall(data))


async def topic_leaks(bootstrap: str, leaks: Leaks, timeout_s: float = 60, idle_ms: int = 500) -> tuple[int, list[str]]:
    """(messages scanned, where a value was found) over the contract's topics, up to their ends."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    scanned, found = 0, []
    try:
        tps = [TopicPartition(t.name, p) for t in ALL_TOPICS for p in await topic_partitions(consumer, t.name)]
        if not tps:
            return 0, []
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        remaining = {tp for tp in tps if ends[tp] > 0}
        await consumer.seek_to_beginning(*tps)
        deadline = asyncio.get_running_loop().time() + timeout_s
        # Up to the end offsets read at the start, or until nothing more comes for a moment (an end
        # offset can lie past the last record a consumer is given).
        while remaining and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(*remaining, timeout_ms=idle_ms)
            if not batch:
                break
            for tp, records in batch.items():
                for record in records:
                    scanned += 1
                    if leaks.search(record.value or b"") or leaks.search(record.key or b""):
                        found.append(f"{record.topic}[{record.partition}]@{record.offset}")
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return scanned, found


def log_leaks(log_dir: Path, leaks: Leaks) -> list[str]:
    return [p.name for p in log_dir.rglob("*") if p.is_file() and leaks.search(p.read_bytes())]


async def table_leaks(server: str, leaks: Leaks, names: list[str] | None = None) -> tuple[int, list[str]]:
    """(rows scanned, database.table where a value was found) over the server's test databases
    (or the ones named)."""
    if names is None:
        admin = await asyncpg.connect(f"{server}/postgres")
        try:
            names = [r["datname"] for r in
                     await admin.fetch("SELECT datname FROM pg_database WHERE datname LIKE 't\\_%'")]
        finally:
            await admin.close()
    scanned, found = 0, []
    for name in names:
        conn = await asyncpg.connect(f"{server}/{name}")
        try:
            tables = [r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
            for table in sorted(set(tables) - ENCRYPTED_TABLES):
                for row in await conn.fetch(f'SELECT t::text AS line FROM "{table}" t'):
                    scanned += 1
                    if leaks.search(row["line"].encode()):
                        found.append(f"{name}.{table}")
        finally:
            await conn.close()
    return scanned, sorted(set(found))


async def scan_all(server: str, log_dir: Path, in_topics: list[str]) -> None:
    """Raise AssertionError naming every place a value issued by this process stands in clear
    (``in_topics``: what the per-test scans of the shared broker found)."""
    leaks = Leaks()
    if not leaks.values:
        return  # this process ran no test that made personal data
    _, in_tables = await table_leaks(server, leaks)
    in_logs = log_leaks(log_dir, leaks)
    assert not (in_topics or in_tables or in_logs), (
        f"clear CCCD or phone found: topics {in_topics[:10]}, tables {in_tables[:10]}, logs {in_logs[:10]}")
