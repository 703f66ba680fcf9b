"""What the ingest service holds while it runs: pool, registry, token cache, event store."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import asyncpg
import structlog

from tally06.domain.org import OrgRegistry
from tally06.domain.org_maps import OrgMap, first_map
from tally06.domain.pii import CitizenProtector
from tally06.store.database import create_pool
from tally06.store.org import load_map
from tally06_ingest.activity_watch import ActivityWatch
from tally06_ingest.auth import TokenCache
from tally06_ingest.group_commit import GroupAppender
from tally06_ingest.settings import IngestSettings
from tally06_ingest.store import EventStore
from tally06_ingest.throttle import AbuseLimits

log = structlog.get_logger(__name__)


@dataclass
class IngestRuntime:
    settings: IngestSettings
    pool: asyncpg.Pool
    registry: OrgMap
    tokens: TokenCache
    store: GroupAppender
    limits: AbuseLimits
    activity: ActivityWatch
    _refresher: asyncio.Task | None = field(default=None, repr=False)

    @classmethod
    async def start(cls, settings: IngestSettings) -> IngestRuntime:
        protector = CitizenProtector(settings.hmac_key, settings.pii_keys)
        pool = await create_pool(settings.database_url, min_size=2, max_size=settings.pool_size)
        runtime = cls(
            settings=settings,
            pool=pool,
            registry=await _map_in_force(pool),
            tokens=TokenCache(pool, settings.token_cache_s),
            store=GroupAppender(EventStore(pool, protector)),
            limits=AbuseLimits(settings),
            activity=ActivityWatch(pool, settings.implausible_activations_per_hour),
        )
        runtime._refresher = asyncio.create_task(runtime._refresh_org())
        return runtime

    async def _refresh_org(self) -> None:
        # New teams and maps taking effect appear without a restart; a failed refresh keeps the last good registry.
        while True:
            await asyncio.sleep(self.settings.org_refresh_s)
            try:
                self.registry = await _map_in_force(self.pool)
            except Exception as exc:  # noqa: BLE001 - keep serving with the registry we have
                log.warning("org_refresh_failed", error=str(exc))

    async def stop(self) -> None:
        if self._refresher:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        await self.activity.close()
        await self.pool.close()


async def _map_in_force(pool: asyncpg.Pool) -> OrgMap:
    return await load_map(pool) or first_map(OrgRegistry(()))
