"""The embedded launchers behave as the local stack and the fault tests rely on: PostgreSQL
keeps committed data across a SIGKILL, Tansu comes back empty, taken ports fail clearly."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tally06.kit.exceptions import ComponentStartError
from tally06.kit.ports import PORT_TAKEN_EXIT, free_port
from tally06.stack.embedded.postgres import EmbeddedPostgres
from tally06.stack.embedded.tansu import EmbeddedTansu


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    with EmbeddedPostgres(tmp_path / "pg", free_port(), fsync=False) as pg:
        yield pg


@pytest.fixture
def tansu(tmp_path: Path) -> Iterator[EmbeddedTansu]:
    with EmbeddedTansu(free_port(), log_path=tmp_path / "tansu.log") as broker:
        yield broker


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


def test_tansu_reports_taken_port(taken_port: int) -> None:
    with pytest.raises(ComponentStartError) as error:
        EmbeddedTansu(taken_port).start()
    assert error.value.component == "kafka"
    assert error.value.exit_code == PORT_TAKEN_EXIT


async def test_tansu_round_trip_and_restart_forgets_everything(tansu: EmbeddedTansu) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=tansu.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic("embedded.check", num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()

    producer = AIOKafkaProducer(bootstrap_servers=tansu.bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        await producer.send_and_wait("embedded.check", b"xin chao", key=b"01")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        "embedded.check",
        bootstrap_servers=tansu.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        message = await consumer.getone()
    finally:
        await consumer.stop()
    assert (message.key, message.value) == (b"01", b"xin chao")

    tansu.restart()
    assert tansu.is_running
    assert "embedded.check" not in await list_topics(tansu.bootstrap)
