"""What every faust-streaming service of tally06 shares: the App settings, health pages, start-up.

PostgreSQL is the state of these services, so Faust keeps no tables (nor their changelog
topics), and the workers declare no topics of their own: ``ensure_topics`` creates the
contract's topics with their settings before a worker starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import faust
import structlog
from faust.worker import Worker
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tally06.kit.ports import require_free_port_or_exit
from tally06.kit.service_settings import WorkerSettings
from tally06.kit.settings import CommonSettings
from tally06.kit.structured_logging import configure_logging
from tally06.kit.topic_admin import ensure_topics
from tally06.store.database import DATABASE_UNAVAILABLE

METADATA_MAX_AGE_MS = 10_000


def broker_urls(bootstrap: str) -> str:
    """Faust's broker setting for a Kafka bootstrap list ("host:port,host:port")."""
    return ";".join(f"kafka://{host.strip()}" for host in bootstrap.split(",") if host.strip())


def make_app(app_id: str, settings: CommonSettings, *, host: str, port: int, offset_reset: str,
             session_timeout_s: float, rebalance_timeout_s: float, heartbeat_interval_s: float) -> faust.App:
    return faust.App(
        app_id,
        broker=broker_urls(settings.kafka_bootstrap),
        store="memory://",
        key_serializer="raw",
        value_serializer="raw",
        topic_disable_leader=True,
        topic_allow_declare=False,
        consumer_auto_offset_reset=offset_reset,
        # How Kafka's group coordinator treats the workers: see WorkerSettings.
        broker_session_timeout=session_timeout_s,
        broker_rebalance_timeout=rebalance_timeout_s,
        broker_heartbeat_interval=heartbeat_interval_s,
        # A rebalance while a subscribed topic is away (deleted, not yet created anew) leaves the
        # workers without its partitions (Faust's assignor skips the missing topic); they ask for
        # them again once their metadata shows the topic back, which the client refreshes every
        # 5 minutes unless a request fails: a worker once sat idle that long in a test.
        consumer_metadata_max_age_ms=METADATA_MAX_AGE_MS,
        web_enabled=True,
        web_bind=host,
        web_port=port,
        web_in_thread=False,
        autodiscover=False,
    )


@contextlib.contextmanager
def errors_stop_the_worker() -> Iterator[None]:
    """An agent that crashed would be restarted by Faust with its messages still unacknowledged,
    and wait for them for ever: a stalled worker that looks alive. Exit instead, so the
    supervisor (the stack, compose or Kubernetes) starts a fresh one and the group rebalances."""
    try:
        yield
    except Exception:  # noqa: BLE001 - whatever crashed the agent, the worker must go
        structlog.get_logger(__name__).exception("agent_crashed_stopping_worker")
        os._exit(70)


_DATABASE_AWAY: tuple[type[Exception], ...] = (*DATABASE_UNAVAILABLE, asyncio.TimeoutError)


def waits_out_database_outages(fun: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """For a timer that reads or writes PostgreSQL. Faust ends a timer's loop for good when its
    function raises, so a database restarting (refusing, or "not yet accepting connections") would
    silently stop the work the timer does (judging claims, following the map, alerting) in a
    worker that still looks alive. The tick is skipped instead; the next one tries again."""

    @functools.wraps(fun)
    async def guarded() -> None:
        try:
            await fun()
        except _DATABASE_AWAY as exc:
            structlog.get_logger(fun.__module__).warning("timer_waits_for_database", timer=fun.__name__,
                                                        error=repr(exc))

    return guarded


def add_health_pages(app: faust.App, check: Callable[[], Awaitable[dict[str, Any]]]) -> None:
    """/healthz (alive), /readyz (``check`` passes; its dict is shown) and /metrics."""

    @app.page("/healthz")
    async def healthz(web, request) -> Any:  # noqa: ANN001 - Faust view signature
        return web.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(web, request) -> Any:  # noqa: ANN001
        try:
            details = await check()
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            return web.json({"status": "unavailable", "error": type(exc).__name__}, status=503)
        return web.json({"status": "ready", **details})

    @app.page("/metrics")
    async def metrics(web, request) -> Any:  # noqa: ANN001
        # As a header: aiohttp refuses a charset inside content_type, and prometheus_client's
        # content type carries one ("...; charset=utf-8").
        return web.bytes(generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def run_worker(service: str, app: faust.App, settings: CommonSettings, host: str, port: int) -> None:
    configure_logging(settings.log_level, settings.log_json, service=service)
    require_free_port_or_exit(service, host, port)
    asyncio.run(ensure_topics(settings.kafka_bootstrap, settings.topic_replication_factor))
    # Our structlog set-up stays in charge: one JSON object per line, like the other services.
    Worker(app, loglevel=settings.log_level.lower(), quiet=True, redirect_stdouts=False,
           override_logging=False).execute_from_commandline()


def worker_app(settings: WorkerSettings, app_id: str, port: int, *, offset_reset: str) -> faust.App:
    """``app_id`` (the consumer group) and ``port`` are fields each worker names after itself."""
    return make_app(
        app_id, settings, host=settings.host, port=port, offset_reset=offset_reset,
        session_timeout_s=settings.session_timeout_s, rebalance_timeout_s=settings.rebalance_timeout_s,
        heartbeat_interval_s=settings.heartbeat_interval_s,
    )
