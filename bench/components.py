"""Real components for a benchmark run: embedded PostgreSQL, Apache Kafka (one KRaft node with its
log on disk), service processes."""

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

import httpx

from tally06.domain.pii import new_key
from tally06.kit.ports import free_port
from tally06.kit.topic_admin import ensure_topics
from tally06.stack.embedded.kafka import EmbeddedKafka
from tally06.stack.embedded.postgres import EmbeddedPostgres
from tests.support.databases import create_database

KEYS = {"TALLY06_HMAC_KEY": new_key(), "TALLY06_PII_KEYS": f"b1:{new_key()}"}


@dataclass
class Bench:
    pg: EmbeddedPostgres
    broker: EmbeddedKafka
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
        log_path = self.workdir / f"{module}-{time.time_ns()}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen([sys.executable, "-m", module], env=env, stdout=log, stderr=log)
        return Service(process, port, module, log_path)

    def component_pids(self) -> dict[str, int]:
        """Process ids of the embedded PostgreSQL and broker (their children count with them)."""
        pids = {"postgresql": getattr(self.pg, "_proc", None), "broker": getattr(self.broker, "_proc", None)}
        return {name: proc.pid for name, proc in pids.items() if proc is not None}

    def restart_broker(self) -> None:
        """An empty broker (its log wiped, as a cluster rebuilt empty) with the project's topics."""
        self.broker.wipe()
        self.broker.start()
        asyncio.run(ensure_topics(self.broker.bootstrap))


def module_runnable(module: str) -> bool:
    """Whether ``python -m module`` can run here (the package and its ``__main__`` exist)."""
    import importlib.util

    try:
        return importlib.util.find_spec(f"{module}.__main__") is not None
    except ModuleNotFoundError:
        return False


def rss_mb(pid: int) -> float | None:
    """Resident memory of a process, in MiB (psutil, else /proc/PID/status VmRSS). For a process
    with children (PostgreSQL's postmaster and backends) the sum of their proportional set sizes,
    so memory they share (shared_buffers) is not counted once per process."""
    try:
        import psutil
    except ImportError:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None
    try:
        process = psutil.Process(pid)
        children = process.children(recursive=True)
        if not children:
            return process.memory_info().rss / 2**20
        total = 0
        for p in [process, *children]:
            with contextlib.suppress(psutil.Error):  # a backend that just ended
                total += p.memory_full_info().pss
        return total / 2**20
    except psutil.Error:
        return None


@dataclass
class Service:
    process: subprocess.Popen
    port: int | None
    module: str = ""
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def ready(self, path: str = "/readyz", timeout_s: float = 60) -> None:
        async with httpx.AsyncClient(timeout=1) as client:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.module} exited with {self.process.returncode}: {self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(self.url + path)).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.module} on {self.port} not ready: {self.log_tail()}")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, chars: int = 2000) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-chars:]

    def rss_mb(self) -> float | None:
        return rss_mb(self.process.pid) if self.alive else None

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
        broker = EmbeddedKafka(free_port(), workdir / "kafka", controller_port=free_port())
        pg.start()
        broker.start()
        asyncio.run(ensure_topics(broker.bootstrap))
        try:
            yield Bench(pg, broker, workdir)
        finally:
            broker.stop()
            pg.stop()


class ForeignLoad:
    """CPU used on this machine by processes outside this benchmark's process tree, per section.

    Machines here are shared (tests of other sessions run beside a benchmark); a section during
    which others used a noticeable share of the cores is flagged, because its figures are then
    not the machine's."""

    def __init__(self) -> None:
        self.sections: dict[str, float] = {}
        self._mark: tuple[float, float, float] | None = None

    @staticmethod
    def _reading() -> tuple[float, float, float]:
        import psutil

        total = psutil.cpu_times()
        # guest time is already in user; steal is the hypervisor's, not a process's
        busy = total.user + total.nice + total.system + getattr(total, "irq", 0.0) + getattr(total, "softirq", 0.0)
        own = 0.0
        me = psutil.Process()
        for process in [me, *me.children(recursive=True)]:
            try:
                t = process.cpu_times()
                own += t.user + t.system + t.children_user + t.children_system
            except psutil.Error:
                pass
        return time.perf_counter(), busy, own

    def start(self) -> None:
        self._mark = self._reading()

    def stop(self, section: str) -> float:
        assert self._mark is not None
        (t0, busy0, own0), (t1, busy1, own1) = self._mark, self._reading()
        cores = max(0.0, ((busy1 - busy0) - (own1 - own0)) / (t1 - t0))
        self.sections[section] = round(cores, 2)
        self._mark = None
        return cores
