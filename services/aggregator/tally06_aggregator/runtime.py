"""Resources the agents share, created once the worker runs (Faust owns the event loop)."""

from __future__ import annotations

import asyncio

import asyncpg

from tally06.store.database import create_pool
from tally06_aggregator.projection import Projector
from tally06_aggregator.settings import AggregatorSettings


class Runtime:
    def __init__(self, settings: AggregatorSettings) -> None:
        self.settings = settings
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()
        self.broker_epoch: int | None = None
        # The map the read model was in when last looked at (None: not yet looked).
        self.read_model_map: int | None = None

    async def pool(self) -> asyncpg.Pool:
        async with self._lock:
            if self._pool is None:
                self._pool = await create_pool(self.settings.database_url, min_size=1, max_size=4)
        return self._pool

    async def projector(self) -> Projector:
        return Projector(await self.pool())
