"""What the wallboard holds while it runs: pool, live map, clock, stream hub and its feeders.

Figures are shown in the map the read model is summed in (``read_model_map``), not the map in
force: the aggregator switches the read model when a new map takes effect, and the board follows
within ``map_check_s``. A map version never changes once saved, so only a new id is reloaded.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import asyncpg
import structlog

from tally06.domain.ack_links import ack_key
from tally06.domain.exceptions import KeyConfigError
from tally06.domain.pii import CitizenProtector
from tally06.kit.clock import Clock, SystemClock, clock_from_setting
from tally06.kit.rate_limit import TokenBuckets
from tally06.store.database import create_pool
from tally06.store.read_model_map import load_live_map, read_model_map
from tally06_wallboard.alert_watch import AlertWatch
from tally06_wallboard.answers import Reports
from tally06_wallboard.exceptions import Unavailable
from tally06_wallboard.feed import ProgressFeed
from tally06_wallboard.figures import Plan
from tally06_wallboard.hierarchy import Tree
from tally06_wallboard.hub import BoardEvent, Hub
from tally06_wallboard.sessions import Sessions, session_key
from tally06_wallboard.settings import WallboardSettings

log = structlog.get_logger(__name__)


@dataclass
class WallboardRuntime:
    settings: WallboardSettings
    pool: asyncpg.Pool
    tree: Tree
    clock: Clock
    hub: Hub
    feed: ProgressFeed
    ack_key: bytes | None
    sessions: Sessions
    # Sessions expire in real time, whatever clock the figures are judged by.
    wall_clock: Clock = field(default_factory=SystemClock)
    user_limits: TokenBuckets = field(init=False)
    sign_in_limits: TokenBuckets = field(init=False)
    reports: Reports = field(init=False)
    _tasks: list[asyncio.Task] = field(default_factory=list, repr=False)
    _read_model_map: int | None = field(default=None, repr=False)
    _protector: CitizenProtector | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.user_limits = TokenBuckets(self.settings.user_rate_per_s, self.settings.user_rate_burst)
        self.sign_in_limits = TokenBuckets(self.settings.sign_in_per_s, self.settings.sign_in_burst)
        # Reports ask for the tree on every request, so an org refresh reaches them.
        self.reports = Reports(self.pool, lambda: self.tree, self.clock,
                               Plan(self.settings.campaign_deadline, self.settings.run_rate_days))

    @classmethod
    async def start(cls, settings: WallboardSettings) -> WallboardRuntime:
        pool = await create_pool(settings.database_url, min_size=2, max_size=settings.pool_size)
        hub = Hub()
        clock = clock_from_setting(settings.clock)
        read_model = await read_model_map(pool)
        runtime = cls(
            settings=settings,
            pool=pool,
            tree=Tree.of_map(await load_live_map(pool)),
            clock=clock,
            hub=hub,
            feed=ProgressFeed(settings.kafka_bootstrap, hub, settings.topic_replication_factor,
                              lambda: pool.fetchval("SELECT broker_epoch FROM relay_state")),
            # Without the key the one-tap links cannot be checked; they are refused, not trusted.
            ack_key=ack_key(settings.hmac_key) if settings.hmac_key else None,
            sessions=Sessions(pool, session_key(settings.auth_secret, settings.hmac_key), settings.session_ttl_s,
                              settings.account_cache_s),
        )
        runtime._read_model_map = read_model
        watch = AlertWatch(pool, hub, settings.alerts_poll_s)
        runtime._tasks = [asyncio.create_task(coro) for coro in
                          (runtime.feed.run(), watch.run(), runtime._follow_live_map())]
        return runtime

    def protector(self) -> CitizenProtector:
        """Opens citizens' sealed data for Appendix II; without keys those reports cannot be made."""
        if self._protector is None:
            try:
                self._protector = CitizenProtector(self.settings.hmac_key, self.settings.pii_keys)
            except KeyConfigError as exc:
                raise Unavailable("pii_keys", f"personal data cannot be read here: {exc}") from exc
        return self._protector

    async def _follow_live_map(self) -> None:
        # A failed check keeps the last good tree; the next one tries again.
        while True:
            await asyncio.sleep(self.settings.map_check_s)
            try:
                await self.check_live_map()
            except Exception as exc:  # noqa: BLE001 - keep serving with the tree we have
                log.warning("live_map_check_failed", error=str(exc))

    async def check_live_map(self) -> bool:
        """Load the read model's map if it is not the one held; True when it changed."""
        # Compared with what read_model_map said last time, not with the tree's id: before any
        # read model the live map is the map in force, and it would be reloaded on every check.
        read_model = await read_model_map(self.pool)
        if read_model == self._read_model_map:
            return False
        tree = Tree.of_map(await load_live_map(self.pool))
        self._read_model_map = read_model
        if tree.map_id == self.tree.map_id:
            return False
        previous, self.tree = self.tree.map_id, tree
        # Progress versions of units of the old map mean nothing in the new one.
        self.feed.forget()
        self.hub.publish(BoardEvent("map", {"map_id": tree.map_id, "previous": previous,
                                            "effective_from": tree.effective_from.isoformat()
                                            if tree.effective_from else None}))
        log.info("live_map_changed", map_id=tree.map_id, previous=previous, units=len(tree.units))
        return True

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.pool.close()
