"""The embedded launchers behave as the local stack and the fault tests rely on: PostgreSQL and
Apache Kafka keep committed data across a SIGKILL, a wiped Kafka comes back empty, taken ports
fail clearly."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tally06.kit.exceptions import ComponentStartError
from tally06.kit.ports import PORT_TAKEN_EXIT, free_port
from tally06.stack.embedded.kafka import EmbeddedKafka
from tally06.stack.embedded.postgres import EmbeddedPostgres


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    with EmbeddedPostgres(tmp_path / "pg", free_port(), fsync=False) as pg:
        yield pg


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


async def list_topics(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return await admin.list_topics()
    finally:
        await admin.close()


async def test_postgres_keeps_committed_data_after_kill(postgres: EmbeddedPostgres) -> None:
    conn = await asyncpg.connect(postgres.dsn())
    await conn.execute("CREATE TABLE units (code text PRIMARY KEY, name text NOT NULL)")
    await conn.execute("INSERT INTO units VALUES ('01', 'Thành phố Hà Nội')")

    postgres.kill()
    assert not postgres.is_running
    with pytest.raises((asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError)):
        await conn.fetchval("SELECT 1")
    conn.terminate()

    postgres.start()
    assert postgres.is_running
    conn = await asyncpg.connect(postgres.dsn())
    try:
        assert await conn.fetchval("SELECT name FROM units WHERE code = '01'") == "Thành phố Hà Nội"
        # The builtin C.UTF-8 locale makes case mapping work for Vietnamese letters.
        assert await conn.fetchval("SELECT upper('đề án 06')") == "ĐỀ ÁN 06"
    finally:
        await conn.close()

    postgres.restart()
    conn = await asyncpg.connect(postgres.dsn())
    try:
        assert await conn.fetchval("SELECT count(*) FROM units") == 1
    finally:
        await conn.close()


def test_postgres_reports_taken_port(tmp_path: Path, taken_port: int) -> None:
    pg = EmbeddedPostgres(tmp_path / "pg", taken_port)
    with pytest.raises(ComponentStartError) as error:
        pg.start()
    assert error.value.component == "postgres"
    assert error.value.exit_code == PORT_TAKEN_EXIT
    assert f"port {taken_port}" in str(error.value)
    assert not pg.is_running


def test_kafka_reports_taken_port(tmp_path: Path, taken_port: int) -> None:
    node = EmbeddedKafka(taken_port, tmp_path / "kafka", controller_port=free_port())
    with pytest.raises(ComponentStartError) as error:
        node.start()
    assert error.value.component == "kafka"
    assert error.value.exit_code == PORT_TAKEN_EXIT
    assert f"port {taken_port}" in str(error.value)
    assert not node.is_running


async def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for n, value in enumerate(values):
            await producer.send_and_wait(topic, value, key=b"%02d" % n)
    finally:
        await producer.stop()


async def read_all(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes | None]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=5_000)
        return [(m.key, m.value) for records in batch.values() for m in records]
    finally:
        await consumer.stop()


async def test_kafka_keeps_its_log_across_a_sigkill_and_wipe_empties_it(own_broker: EmbeddedKafka) -> None:
    kafka = own_broker  # the tests' spare node: one JVM start fewer
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic("embedded.check", num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    await produce(kafka.bootstrap, "embedded.check", [b"xin chao", "đề án 06".encode()])
    assert await read_all(kafka.bootstrap, "embedded.check") == [(b"00", b"xin chao"), (b"01", "đề án 06".encode())]

    began = time.perf_counter()
    kafka.kill()
    assert not kafka.is_running
    kafka.start()
    restarted_s = time.perf_counter() - began
    assert await read_all(kafka.bootstrap, "embedded.check") == [(b"00", b"xin chao"), (b"01", "đề án 06".encode())]

    kafka.wipe()
    assert not kafka.is_running and not kafka.log_dir.exists()
    began = time.perf_counter()
    kafka.start()  # formats a new log first, as `tally06 up` does on a fresh machine
    print(f"\nKafka: fresh start {time.perf_counter() - began:.1f} s, RSS {kafka.rss_mb()} MiB; "
          f"SIGKILL and restart with its log {restarted_s:.1f} s")
    assert "embedded.check" not in await list_topics(kafka.bootstrap)
