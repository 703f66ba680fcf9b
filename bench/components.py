"""Real components for a benchmark run: embedded PostgreSQL, the Tansu broker, service processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from tally06.embedded.postgres import EmbeddedPostgres
from tally06.embedded.tansu import EmbeddedTansu
from tally06.pii import new_key
from tally06.ports import free_port
from tally06.topics import ensure_topics
from tests.support.databases import create_database

KEYS = {"TALLY06_HMAC_KEY": new_key(), "TALLY06_PII_KEYS": f"b1:{new_key()}"}


@dataclass
class Bench:
    pg: EmbeddedPostgres
    broker: EmbeddedTansu
    workdir: Path

    async def fresh_database(self) -> str:
        return await create_database(self.pg.dsn("").rstrip("/"), prefix="bench_")

    def env(self, dsn: str, **extra: str) -> dict[str, str]:
        return {**os.environ, **KEYS, "DATABASE_URL": dsn, "KAFKA_BOOTSTRAP": self.broker.bootstrap,
                "TALLY06_LOG_LEVEL": "WARNING", **extra}

    def service(self, module: str, dsn: str, port_setting: str | None = None, **extra: str) -> "Service":
        port = free_port() if port_setting else None
        env = self.env(dsn, **extra)
        if port_setting:
            env[port_setting] = str(port)
        log = open(self.workdir / f"{module}-{time.time_ns()}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen([sys.executable, "-m", module], env=env, stdout=log, stderr=log)
        return Service(process, port)


@dataclass
class Service:
    process: subprocess.Popen
    port: int | None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def ready(self, path: str = "/readyz", timeout_s: float = 60) -> None:
        async with httpx.AsyncClient(timeout=1) as client:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(self.url + path)).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise TimeoutError(f"service on {self.port} not ready")

    def rss_mb(self) -> float:
        import psutil

        return psutil.Process(self.process.pid).memory_info().rss / 2**20

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


@contextlib.contextmanager
def bench_components() -> Iterator[Bench]:
    with tempfile.TemporaryDirectory(prefix="tally06-bench-") as tmp:
        workdir = Path(tmp)
        pg = EmbeddedPostgres(workdir / "pg", free_port())
        broker = EmbeddedTansu(free_port(), log_path=workdir / "tansu.log")
        pg.start()
        broker.start()
        asyncio.run(ensure_topics(broker.bootstrap))
        try:
            yield Bench(pg, broker, workdir)
        finally:
            broker.stop()
            pg.stop()
