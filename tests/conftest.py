"""Shared fixtures: one real PostgreSQL and one real broker per session, a fresh database per
test, and factories for service processes. Nothing here is mocked."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

from tally06.domain.pii import new_key
from tally06.kit.ports import free_port
from tally06.kit.topic_admin import ensure_topics
from tally06.stack.embedded.kafka import SINGLE_NODE_SETTINGS, EmbeddedKafka
from tally06.stack.embedded.postgres import EmbeddedPostgres
from tally06.store.device_tokens import issue_token
from tests.support.databases import create_database
from tests.support.kafka import forget_topics
from tests.support.leak_scan import Leaks, scan_all, topic_leaks
from tests.support.services import FAST_CONSUMER_GROUP, LOG_DIR, LOGS_ROOT, ServiceProcess, stop_all

TEST_KEYS = {"TALLY06_HMAC_KEY": new_key(), "TALLY06_PII_KEYS": f"t1:{new_key()}"}


def pytest_sessionstart(session: pytest.Session) -> None:
    """Service logs of this run only, so the scans judge this run (the controller of a run
    spread over processes clears them before its workers start)."""
    if not hasattr(session.config, "workerinput"):
        shutil.rmtree(LOGS_ROOT, ignore_errors=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """DSN prefix of a PostgreSQL server: ``TEST_DATABASE_SERVER`` if given, else embedded."""
    external = os.environ.get("TEST_DATABASE_SERVER")
    if external:
        yield external.rstrip("/")
        return
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg"), free_port(), fsync=False)
    server.start()
    try:
        yield server.dsn("").rstrip("/")
    finally:
        server.stop()


# Where a test left a CCCD or phone in clear on the shared broker's topics (scanned after each
# test, before the next one empties them).
TOPIC_LEAKS: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def no_clear_personal_data_left(postgres_server: str) -> Iterator[None]:
    """When this process's last test is done: no CCCD or phone it issued stands in clear in its
    services' logs, its test databases or what its tests published (a failure fails the run)."""
    yield
    asyncio.run(scan_all(postgres_server, LOG_DIR, TOPIC_LEAKS))


def kafka_node(path: Path, **settings: str) -> EmbeddedKafka:
    """A single-node Apache Kafka with its log under ``path`` (``settings``: broker settings with
    ``_`` for ``.``, over the single-node ones)."""
    overrides = {key.replace("_", "."): value for key, value in settings.items()}
    return EmbeddedKafka(free_port(), path, controller_port=free_port(),
                         settings={**SINGLE_NODE_SETTINGS, **overrides})


@pytest.fixture(scope="session")
def shared_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedKafka]:
    kafka = kafka_node(tmp_path_factory.mktemp("kafka"))
    kafka.start()
    try:
        yield kafka
    finally:
        kafka.stop()


@pytest.fixture
def broker(shared_kafka: EmbeddedKafka) -> Iterator[EmbeddedKafka]:
    """The broker most tests use: the contract's topics, empty, so no test's aggregator counts
    another's facts (a consumer group's committed offsets go with a deleted topic). What the test
    published is scanned for personal data in clear when it ends."""
    asyncio.run(forget_topics(shared_kafka.bootstrap))
    asyncio.run(ensure_topics(shared_kafka.bootstrap))
    yield shared_kafka
    TOPIC_LEAKS.extend(asyncio.run(topic_leaks(shared_kafka.bootstrap, Leaks()))[1])


@pytest.fixture(scope="session")
def spare_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedKafka]:
    kafka = kafka_node(tmp_path_factory.mktemp("spare-kafka"))
    try:
        yield kafka
    finally:
        kafka.stop()


@pytest.fixture
def own_broker(spare_broker: EmbeddedKafka) -> EmbeddedKafka:
    """A broker with no topics, for the test alone: it may kill, restart or wipe it.

    One JVM serves these tests in turn (a Kafka start costs seconds); each gets it running and
    without topics, so without messages and committed offsets either (Kafka drops a deleted
    topic's offsets).
    """
    spare_broker.start()
    asyncio.run(forget_topics(spare_broker.bootstrap))
    return spare_broker


@pytest.fixture
async def database(postgres_server: str) -> str:
    """A fresh, migrated database with the demo org loaded."""
    return await create_database(postgres_server)


@pytest.fixture
async def db(database: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def make_token(database: str) -> Callable[[str], Awaitable[str]]:
    """Issue a device token for a team of the test's database."""

    async def make(team: str) -> str:
        conn = await asyncpg.connect(database)
        try:
            return (await issue_token(conn, team, "test"))[1]
        finally:
            await conn.close()

    return make


def service_env(database: str, bootstrap: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **TEST_KEYS,
        **FAST_CONSUMER_GROUP,  # a test's ``extra`` settings still win over these
        "DATABASE_URL": database,
        "KAFKA_BOOTSTRAP": bootstrap,
        "TALLY06_LOG_LEVEL": "INFO",
        **extra,
    }


SERVICES = {
    "ingest": ("tally06_ingest", "TALLY06_INGEST_PORT"),
    "relay": ("tally06_ingest.relay", "TALLY06_RELAY_PORT"),
    "aggregator": ("tally06_aggregator", "TALLY06_AGGREGATOR_PORT"),
    "notifier": ("tally06_notifier", "TALLY06_NOTIFIER_PORT"),
    "wallboard": ("tally06_wallboard", "TALLY06_WALLBOARD_PORT"),
}


@pytest.fixture
def start_service(database: str, broker: EmbeddedKafka) -> Iterator[Callable[..., ServiceProcess]]:
    """Start a service process against this test's database (and a broker); stopped after."""
    started: list[ServiceProcess] = []

    def start(name: str, *, bootstrap: str | None = None, ready: bool = True, **extra: str) -> ServiceProcess:
        module, port_setting = SERVICES[name]
        port = free_port() if port_setting else None
        env = service_env(database, bootstrap or broker.bootstrap, **extra)
        if port:
            env[port_setting] = str(port)
        proc = ServiceProcess(name, module, env, port)
        started.append(proc)
        return proc.start(ready_path="/readyz" if ready and port else None, timeout_s=60)

    yield start
    stop_all(started)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(__file__).parent / "artifacts"
    path.mkdir(exist_ok=True)
    return path
