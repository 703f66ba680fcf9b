"""PostgreSQL crashes and comes back while field devices keep posting: nothing accepted is
lost, the counters equal the ground truth, every service carries on without a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from tally06.kit.ports import free_port
from tally06.stack.embedded.postgres import EmbeddedPostgres
from tally06.store.device_tokens import issue_token
from tests.integration.aggregator.test_exact_counters import TEAMS, Field, assert_exact
from tests.support.databases import create_database


@pytest.mark.slow
async def test_exact_after_the_database_crashes_under_load(own_broker, start_service, tmp_path: Path):
    server = EmbeddedPostgres(tmp_path / "pg", free_port())
    await asyncio.to_thread(server.start)
    try:
        dsn = await create_database(server.dsn("").rstrip("/"))
        conn = await asyncpg.connect(dsn)
        try:
            tokens = {team: (await issue_token(conn, team, "test"))[1] for team in TEAMS}
        finally:
            await conn.close()
        services = {"bootstrap": own_broker.bootstrap, "DATABASE_URL": dsn}
        ingest = start_service("ingest", **services)
        relay = start_service("relay", **services)
        aggregator = start_service("aggregator", **services)
        field = Field(ingest.url, tokens, seed=11)
        load = asyncio.create_task(field.stream(batches=120, pause_s=0.02))
        await asyncio.sleep(1.5)
        await asyncio.to_thread(server.kill)  # SIGKILL: recovery from the WAL on start
        await asyncio.sleep(2)
        await asyncio.to_thread(server.start)
        await load
        await assert_exact(dsn, field, timeout_s=120)
        for service in (ingest, relay, aggregator):
            assert service.alive(), f"{service.name} died:\n{service.log_tail()}"
    finally:
        await asyncio.to_thread(server.stop)
