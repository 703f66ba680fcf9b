"""Wires the notifier: database, clock, channels, leadership; real adapters from settings."""

from __future__ import annotations

import asyncio

import asyncpg
import structlog
from prometheus_client import Counter, Gauge, Histogram

from tally06.domain.ack_links import ack_key
from tally06.domain.confirmation import REGISTRY_METRICS
from tally06.domain.org import OrgRegistry
from tally06.domain.pii import derived_key
from tally06.kit.clock import Clock, clock_from_setting
from tally06.store.database import create_pool
from tally06.store.projection_lag import read_model_backlog
from tally06.store.read_model_map import load_live_map, read_model_map
from tally06_notifier.channels import Channels
from tally06_notifier.channels.console import ConsoleChannel
from tally06_notifier.channels.email import EmailChannel
from tally06_notifier.channels.webhook import WebhookChannel
from tally06_notifier.delivery import Deliverer, mark_in_flight_uncertain
from tally06_notifier.rules import Decision, OpenAlert, evaluate, local_day
from tally06_notifier.settings import NotifierSettings
from tally06_notifier.snapshot import load_snapshot
from tally06_notifier.spot_check_rule import spot_check_decisions
from tally06_notifier.store import Outbox, record_activity

log = structlog.get_logger(__name__)
LEADER_LOCK = 0x7A11_0601  # advisory lock id: one notifier evaluates and sends at a time
DECISIONS = Counter("tally06_notifier_decisions_total", "Alert decisions taken", ["decision"])
OPEN_ALERTS = Gauge("tally06_notifier_open_alerts", "Alerts open after the last evaluation")
EVALUATION = Histogram("tally06_notifier_evaluation_seconds", "Time of one evaluation of every unit")
BACKLOG = Gauge("tally06_notifier_read_model_backlog", "Stored events the counters do not include yet")
LEADING = Gauge("tally06_notifier_leading", "1 while this worker evaluates and sends")


def webhook_secret(settings: NotifierSettings) -> bytes:
    if settings.webhook_secret:
        return settings.webhook_secret.encode()
    return derived_key(settings.hmac_key, b"tally06 webhook signing")


def build_channels(settings: NotifierSettings) -> Channels:
    channels = Channels([ConsoleChannel(), WebhookChannel(webhook_secret(settings))])
    if settings.smtp_host:
        channels.register(EmailChannel(
            settings.smtp_host, settings.smtp_port, settings.smtp_sender, username=settings.smtp_username,
            password=settings.smtp_password, start_tls=settings.smtp_starttls or None))
    return channels


def _subject(decision: Decision) -> str:
    if isinstance(decision, OpenAlert):
        return f"{decision.unit}/{decision.rule.value}"
    alert = decision.alert
    return f"{alert.unit}/{alert.rule.value}#{alert.id}"


class Runtime:
    def __init__(self, settings: NotifierSettings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or clock_from_setting(settings.clock)
        self.policy = settings.policy()
        self.ack_secret = ack_key(settings.hmac_key)
        self._pool: asyncpg.Pool | None = None
        self._leader_conn: asyncpg.Connection | None = None
        self._org: tuple[int | None, OrgRegistry] | None = None
        self._evaluating = asyncio.Lock()
        self._leadership = asyncio.Lock()
        self._deliverer: Deliverer | None = None
        self._seeded = False
        self.last_evaluation: dict[str, object] = {}

    @property
    def is_leader(self) -> bool:
        return self._leader_conn is not None

    async def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            self._pool = await create_pool(self.settings.database_url, min_size=1, max_size=6)
        return self._pool

    async def org(self) -> OrgRegistry:
        """The live map: the counts the rules judge are summed in the read model's map, so the
        alerts follow it when the aggregator switches to a new one. A map version never changes
        once saved, so only a new id is loaded."""
        pool = await self.pool()
        map_id = await read_model_map(pool)
        if self._org is None or self._org[0] != map_id:
            live = await load_live_map(pool)
            self._org = (map_id, live.registry if live is not None else OrgRegistry(()))
            log.info("notifier_map_loaded", map_id=live.id if live is not None else None, units=len(self._org[1]))
        return self._org[1]

    async def leading(self) -> bool:
        """Whether this worker holds the leader lock, taking it if it is free."""
        async with self._leadership:  # the timers ask at once; one connection, one question
            return await self._check_leadership()

    async def _check_leadership(self) -> bool:
        if self._leader_conn is not None:
            try:
                await self._leader_conn.fetchval("SELECT 1")
                return True
            except Exception:  # noqa: BLE001 - a lost connection means a lost lock
                log.warning("notifier_leadership_lost")
                self._leader_conn.terminate()
                self._leader_conn = None
                LEADING.set(0)
        conn = await asyncpg.connect(self.settings.database_url)
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK):
            await conn.close()
            return False
        self._leader_conn = conn
        LEADING.set(1)
        await mark_in_flight_uncertain(await self.pool())
        self._seeded = False
        log.info("notifier_leading")
        return True

    async def saw_changes(self, units: set[str]) -> None:
        await record_activity(await self.pool(), dict.fromkeys(units, self.clock.now()))

    async def evaluate(self) -> None:
        if self._evaluating.locked() or not await self.leading():
            return
        async with self._evaluating:
            with EVALUATION.time():
                await self._evaluate()

    async def _evaluate(self) -> None:
        org, pool, now = await self.org(), await self.pool(), self.clock.now()
        async with pool.acquire() as conn:
            backlog = await read_model_backlog(conn)
        BACKLOG.set(backlog)
        if backlog > self.settings.notifier_max_backlog:
            self.last_evaluation = {"at": None, "waiting_for_read_model": backlog}
            log.info("notifier_waiting_for_read_model", backlog=backlog)
            return
        if not self._seeded:
            # Teams already counted today were heard from, as far as a new leader can tell (by
            # their own events: registry counters come from extracts, not from the field).
            await pool.execute(
                "INSERT INTO unit_activity (unit, last_seen) SELECT DISTINCT unit, $2::timestamptz FROM unit_daily "
                "WHERE day = $1 AND metric <> ALL($3::text[]) ON CONFLICT DO NOTHING",
                local_day(now), now, sorted(REGISTRY_METRICS))
            self._seeded = True
        async with pool.acquire() as conn, conn.transaction():
            snapshot = await load_snapshot(conn, org, now)
            decisions = evaluate(snapshot.units_to_judge(), snapshot.alerts, now, self.policy, in_map=org,
                                 confirmations=snapshot.confirmations)
            decisions += spot_check_decisions(snapshot.spot_checks, snapshot.spot_alerts, now, in_map=org)
            outbox = Outbox(conn, org, snapshot, self.policy, self.ack_secret, self.settings.public_url)
            for decision in decisions:
                await outbox.apply(decision)
                DECISIONS.labels(type(decision).__name__).inc()
            await outbox.digests(self.settings.public_url)
            OPEN_ALERTS.set(await conn.fetchval("SELECT count(*) FROM alerts WHERE status = 'open'"))
        self.last_evaluation = {"at": now.isoformat(), "decisions": len(decisions), "queued": outbox.queued}
        if decisions or outbox.queued:
            log.info("notifier_evaluated", at=now.isoformat(), queued=outbox.queued,
                     decisions=[f"{type(d).__name__}:{_subject(d)}" for d in decisions][:50])

    async def deliver(self) -> None:
        if not await self.leading():
            return
        if self._deliverer is None:
            s = self.settings
            self._deliverer = Deliverer(await self.pool(), build_channels(s), self.clock, self.policy,
                                        retry_base_s=s.retry_base_s, retry_max_s=s.retry_max_s,
                                        max_attempts=s.max_attempts)
        while await self._deliverer.deliver_due():
            pass
