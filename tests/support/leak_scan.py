"""The scan for leaked personal data: no CCCD or phone the tests issued stands in clear in a log
line, a topic message or a table (other than the encrypted personal-data table).

It runs when a test process ends (``tests/conftest.py``, ``no_clear_personal_data_left``), over
what that process made: its services' logs and its PostgreSQL server's test databases; the
shared broker's topics are scanned after each test, before the next one empties them.
With the suite spread over processes each scans its own, with the values it issued.
"""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg

from tally06.contract.topics import ALL_TOPICS
from tests.support import factories
from tests.support.kafka import records_to_end

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


async def topic_leaks(bootstrap: str, leaks: Leaks) -> tuple[int, list[str]]:
    """(messages scanned, where a value was found) over the contract's topics, up to their ends."""
    records = await records_to_end(bootstrap, [t.name for t in ALL_TOPICS])
    return len(records), [f"{r.topic}[{r.partition}]@{r.offset}" for r in records
                          if leaks.search(r.value or b"") or leaks.search(r.key or b"")]


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
