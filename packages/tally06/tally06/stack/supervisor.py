"""The one-command stack: database, broker, topics, migrations, services; stopped cleanly.

Each piece is embedded unless the environment names an external one (``DATABASE_URL``,
``KAFKA_BOOTSTRAP``). Services run as child processes so a crash of one is contained; the
stack restarts a service that dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import structlog

from tally06.contract.events import LOCAL_TZ
from tally06.domain.accounts import Role
from tally06.imports.reference import PLAN70_START, DemoMap
from tally06.kit.clock import clock_from_setting
from tally06.kit.exceptions import ComponentStartError
from tally06.kit.ports import require_free_port
from tally06.kit.topic_admin import ensure_topics
from tally06.simulator.plan import demo_daily_targets
from tally06.stack.demo_data import demo_people, demo_users, load_demo_work_areas
from tally06.stack.demo_maps import DemoStart, load_demo_focal_points, load_demo_maps
from tally06.stack.key_files import load_or_create_keys
from tally06.store.database import ensure_database, migrate
from tally06.store.org import load_org
from tally06.store.targets import save_daily_targets

log = structlog.get_logger(__name__)

DEMO_HOURS = (dt.time(11, 30), dt.time(21, 0))
DEMO_AFTERNOON = dt.time(14, 0)


def demo_clock_offset(now: dt.datetime) -> dt.timedelta:
    """How far to move the demo's clock so it shows a working afternoon at any hour.

    Pace alerts need a quarter of the working day behind them and quiet hours hold messages at
    night, so a demo started at 02:00 would show nothing; it runs at 14:00 of the day before
    instead. The clock only moves back: ingest refuses events from the future.
    """
    local = now.astimezone(LOCAL_TZ)
    if DEMO_HOURS[0] <= local.time() <= DEMO_HOURS[1]:
        return dt.timedelta(0)
    target = dt.datetime.combine(local.date(), DEMO_AFTERNOON, LOCAL_TZ)
    if target > local:
        target -= dt.timedelta(days=1)
    return target - local


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    port_setting: str | None = None
    port: int | None = None


@dataclass
class StackConfig:
    home: Path = Path(".tally06")
    host: str = "127.0.0.1"
    ingest_port: int = 8061
    wallboard_port: int = 8062
    aggregator_port: int = 8063
    relay_port: int = 8064
    notifier_port: int = 8065
    pg_port: int = 55432
    kafka_port: int = 19092
    kafka_controller_port: int = 19093
    database_url: str | None = None
    kafka_bootstrap: str | None = None
    demo: bool = False
    # The map the demo starts in; from the 2023 map it moves to the two-tier map after
    # ``switch_after`` seconds of live streaming (negative: never).
    demo_map: DemoMap = DemoMap.TWO_TIER
    switch_after: float = 30.0
    # Seconds between the demo's registry extracts (stack/registry_feed.py); 0: none.
    registry_every: float = 20.0
    # Seconds between the demo's spot-check draws (stack/spot_check_feed.py); 0: none.
    spot_check_every: float = 60.0
    log_json: bool = True
    # "offset:SECONDS" runs every service that reads a clock that far from the wall clock.
    clock: str = "system"

    def services(self) -> list[ServiceSpec]:
        return [
            ServiceSpec("ingest", "tally06_ingest", "TALLY06_INGEST_PORT", self.ingest_port),
            ServiceSpec("relay", "tally06_ingest.relay", "TALLY06_RELAY_PORT", self.relay_port),
            ServiceSpec("aggregator", "tally06_aggregator", "TALLY06_AGGREGATOR_PORT", self.aggregator_port),
            ServiceSpec("notifier", "tally06_notifier", "TALLY06_NOTIFIER_PORT", self.notifier_port),
            ServiceSpec("wallboard", "tally06_wallboard", "TALLY06_WALLBOARD_PORT", self.wallboard_port),
        ]


@dataclass(frozen=True)
class BrokerStart:
    """How long the embedded Kafka took to start, and its memory right after."""

    seconds: float
    rss_mb: int


@dataclass
class Child:
    spec: ServiceSpec
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0


@dataclass
class Stack:
    config: StackConfig
    database_url: str = ""
    kafka_bootstrap: str = ""
    env: dict[str, str] = field(default_factory=dict)
    children: list[Child] = field(default_factory=list)
    # (username, password, role, unit) of the demo's users, for the terminal to show once.
    demo_users: list[tuple[str, str, Role, str]] = field(default_factory=list)
    demo_start: DemoStart | None = None
    broker_started: BrokerStart | None = None
    _postgres: object | None = None
    _broker: object | None = None
    _stopping: bool = False

    @property
    def ingest_url(self) -> str:
        return f"http://{self.config.host}:{self.config.ingest_port}"

    @property
    def wallboard_url(self) -> str:
        return f"http://{self.config.host}:{self.config.wallboard_port}"

    @property
    def today(self) -> dt.date:
        """The local day on the stack's clock (the demo's may run a day behind the wall's)."""
        return clock_from_setting(self.config.clock).now().astimezone(LOCAL_TZ).date()

    async def start(self, defer: tuple[str, ...] = ()) -> None:
        """Start everything; services named in ``defer`` wait for ``start_service``."""
        cfg = self.config
        cfg.home.mkdir(parents=True, exist_ok=True)
        (cfg.home / "logs").mkdir(exist_ok=True)
        for spec in cfg.services():
            if spec.port is not None:
                require_free_port(spec.name, cfg.host, spec.port)
        await self._start_database()
        await self._start_broker()
        self.env = {
            **os.environ,
            **load_or_create_keys(cfg.home),
            "DATABASE_URL": self.database_url,
            "KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "TALLY06_HOST": cfg.host,
            "TALLY06_HOME": str(cfg.home),
            "TALLY06_LOG_JSON": "true" if cfg.log_json else "false",
            "TALLY06_CLOCK": cfg.clock,
            "TALLY06_PUBLIC_URL": self.wallboard_url,
        }
        if cfg.demo:
            # Plan 70 ended in 2023; the demo's campaign runs two more months from its today.
            self.env["TALLY06_CAMPAIGN_DEADLINE"] = (self.today + dt.timedelta(days=60)).isoformat()
        for spec in cfg.services():
            if spec.name not in defer:
                await self.start_service(spec.name)
        await self._wait_ready(f"{self.ingest_url}/readyz", "ingest")

    async def start_service(self, name: str) -> None:
        spec = next(s for s in self.config.services() if s.name == name)
        child = Child(spec)
        self.children.append(child)
        await self._spawn(child)

    async def _start_database(self) -> None:
        cfg = self.config
        if cfg.database_url:
            self.database_url = cfg.database_url
        else:
            from tally06.stack.embedded.postgres import EmbeddedPostgres

            pg = EmbeddedPostgres(cfg.home / "pgdata", cfg.pg_port, cfg.host)
            await asyncio.to_thread(pg.start)
            self._postgres = pg
            self.database_url = pg.dsn("tally06")
        try:
            await ensure_database(self.database_url)
            await migrate(self.database_url)
        except OSError as exc:
            raise ComponentStartError("postgres", f"cannot reach {self.database_url}: {exc}") from exc
        conn = await asyncpg.connect(self.database_url)
        try:
            if cfg.demo or len(await load_org(conn)) == 0:
                self.demo_start = await load_demo_maps(conn, cfg.demo_map if cfg.demo else DemoMap.TWO_TIER,
                                                       self.today)
            if cfg.demo and self.demo_start is not None:
                live = self.demo_start.live.registry
                if not await conn.fetchval("SELECT count(*) FROM daily_targets"):
                    await save_daily_targets(conn, demo_daily_targets(org=live), source="demo plan",
                                             valid_from=PLAN70_START.date())
                await load_demo_focal_points(conn, live)
                await load_demo_work_areas(conn, live)
                self.demo_users = await demo_users(conn, demo_people(live))
        finally:
            await conn.close()

    async def _start_broker(self) -> None:
        cfg = self.config
        if cfg.kafka_bootstrap:
            self.kafka_bootstrap = cfg.kafka_bootstrap
        else:
            from tally06.stack.embedded.kafka import EmbeddedKafka

            broker = EmbeddedKafka(cfg.kafka_port, cfg.home / "kafka", cfg.host, cfg.home / "logs" / "kafka.log",
                                   controller_port=cfg.kafka_controller_port)
            began = time.monotonic()
            await asyncio.to_thread(broker.start)
            self._broker = broker
            self.kafka_bootstrap = broker.bootstrap
            self.broker_started = BrokerStart(time.monotonic() - began, broker.rss_mb())
            log.info("kafka_started", seconds=round(self.broker_started.seconds, 1),
                     rss_mb=self.broker_started.rss_mb, log_dir=str(broker.log_dir))
        try:
            await asyncio.wait_for(ensure_topics(self.kafka_bootstrap), 30)
        except Exception as exc:  # noqa: BLE001 - any cause is reported the same way
            raise ComponentStartError("kafka", f"cannot create topics on {self.kafka_bootstrap}: {exc}") from exc

    async def _spawn(self, child: Child) -> None:
        env = dict(self.env)
        if child.spec.port_setting:
            env[child.spec.port_setting] = str(child.spec.port)
        logfile = open(self.config.home / "logs" / f"{child.spec.name}.log", "ab")  # noqa: SIM115
        child.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", child.spec.module, env=env, stdout=logfile, stderr=logfile,
            start_new_session=True,
        )
        logfile.close()
        log.info("service_started", service=child.spec.name, pid=child.process.pid)

    async def _wait_ready(self, url: str, name: str, timeout_s: float = 60) -> None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        async with httpx.AsyncClient(timeout=2) as client:
            while asyncio.get_running_loop().time() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url)).status_code == 200:
                        return
                for child in self.children:
                    if child.spec.name == name and child.process and child.process.returncode is not None:
                        tail = (self.config.home / "logs" / f"{name}.log").read_text(errors="replace")[-2000:]
                        raise ComponentStartError(name, f"exited with {child.process.returncode}:\n{tail}")
                await asyncio.sleep(0.2)
        raise ComponentStartError(name, f"not ready after {timeout_s:.0f} s ({url})")

    async def supervise(self, stop: asyncio.Event) -> None:
        """Restart services that die, with a growing pause, until asked to stop."""
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            for child in self.children:
                if self._stopping or stop.is_set():
                    return
                if child.process and child.process.returncode is not None:
                    child.restarts += 1
                    log.warning("service_died", service=child.spec.name,
                                returncode=child.process.returncode, restarts=child.restarts)
                    await asyncio.sleep(min(child.restarts, 10))
                    await self._spawn(child)

    async def stop(self) -> None:
        self._stopping = True
        for child in reversed(self.children):
            if child.process and child.process.returncode is None:
                child.process.terminate()
        for child in self.children:
            if child.process:
                try:
                    await asyncio.wait_for(child.process.wait(), 15)
                except asyncio.TimeoutError:
                    child.process.kill()
                    await child.process.wait()
        if self._broker is not None:
            await asyncio.to_thread(self._broker.stop)  # type: ignore[attr-defined]
        if self._postgres is not None:
            await asyncio.to_thread(self._postgres.stop)  # type: ignore[attr-defined]
