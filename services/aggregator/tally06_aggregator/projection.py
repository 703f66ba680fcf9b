"""The counters projection in PostgreSQL: counters and positions commit in one transaction.

Several workers may write at once (during a rebalance two may even hold the same key for a
moment): the position rows are locked first, so the second writer sees the first's positions
and skips what was applied. Rows are written in key order (sorted by PostgreSQL), so writers never deadlock.
"""

from __future__ import annotations

from collections.abc import Mapping

import asyncpg
import structlog
from prometheus_client import Counter

from tally06.store.counters import add_counts
from tally06.store.read_model_map import read_model_map, team_paths
from tally06_aggregator.decode import decode_batch
from tally06_aggregator.fold import Deltas, Step, expand, tally

log = structlog.get_logger(__name__)

PROJECTION = "counters"

REFOLDED = Counter("tally06_aggregator_steps_refolded_total",
                   "Steps folded again because the read model's positions were not the expected ones")


async def lock_positions(conn: asyncpg.Connection, keys: list[str]) -> dict[str, int]:
    await conn.execute(
        "INSERT INTO projection_positions (projection, key) SELECT $1, k FROM unnest($2::text[]) k "
        "ORDER BY k ON CONFLICT DO NOTHING", PROJECTION, keys)
    rows = await conn.fetch(
        "SELECT key, position FROM projection_positions WHERE projection = $1 AND key = ANY($2::text[]) "
        "ORDER BY key FOR UPDATE", PROJECTION, keys)
    return {r["key"]: r["position"] for r in rows}


async def save_positions(conn: asyncpg.Connection, moved: Mapping[str, int]) -> None:
    keys = sorted(moved)
    await conn.execute(
        "UPDATE projection_positions p SET position = m.position, applied_at = now() "
        "FROM unnest($2::text[], $3::bigint[]) AS m(key, position) "
        "WHERE p.projection = $1 AND p.key = m.key", PROJECTION, keys, [moved[k] for k in keys])


async def write_deltas(conn: asyncpg.Connection, deltas: Deltas) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    """Add the deltas; returns the new unit_daily and unit_total rows that changed."""
    return await add_counts(conn, deltas.unit_daily, deltas.unit_total, deltas.officer_daily, deltas.officer_total)


class Projector:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._paths: tuple[int | None, dict[str, tuple[str, ...]]] = (None, {})

    async def paths(self, conn: asyncpg.Connection) -> dict[str, tuple[str, ...]]:
        """The teams' paths in the read model's map, read after the positions are locked: a map
        switch holds that lock, so a step never counts across it."""
        map_id = await read_model_map(conn)
        if map_id != self._paths[0]:
            self._paths = (map_id, await team_paths(conn, map_id) if map_id is not None else {})
            log.info("projection_map", map_id=map_id, teams=len(self._paths[1]))
        return self._paths[1]

    async def apply(self, step: Step) -> tuple[Deltas, list[asyncpg.Record], list[asyncpg.Record], dict[str, int]]:
        """Apply a step exactly once; returns the deltas, the changed rows and the positions of
        the step's keys after it."""
        keys = sorted(step.start)
        async with self.pool.acquire() as conn, conn.transaction():
            positions = await lock_positions(conn, keys)
            if all(positions[key] == step.start[key] for key in keys):
                counted, moved = step.counted, step.end
            else:
                REFOLDED.inc()
                log.info("step_refolded", keys=len(keys), messages=len(step.raw))
                counted, moved = tally((decode_batch(raw) for raw in step.raw), positions)
            deltas = expand(counted, await self.paths(conn))
            if not deltas:
                return deltas, [], [], positions
            daily, total = await write_deltas(conn, deltas)
            await save_positions(conn, moved)
        return deltas, daily, total, {**positions, **moved}
