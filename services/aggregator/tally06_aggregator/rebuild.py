"""Rebuilding the counters view from the event store, for a new metric or a damaged view.

The live projection is paused by a lock on its positions for the duration; readers keep seeing
the old view until the new one commits, in one transaction with the new positions. Positions
only move forward, so facts still on their way through Kafka are recognised as counted. The
view is summed in the map in force today, which the read model is then in, and the activation
claims are judged against the registry again from the start (``tally06.store.reconciliation``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from tally06.contract.events import EVENT_METRICS, FACT_FIELDS, F, FactRows
from tally06.domain.registry import ReconcileRules
from tally06.store.org import map_in_force
from tally06.store.read_model_map import team_paths
from tally06.store.reconcile_all import judge_all
from tally06_aggregator.fold import Tally, expand, tally
from tally06_aggregator.projection import PROJECTION, write_deltas

# Columns in the order of FACT_FIELDS, so a row indexes like a fact on the wire; fields the
# fold does not read are NULL, which saves decoding a million timestamps and ids.
_FOLDED = {"seq", "metric", "team", "officer", "credited", "lineage"}
_READ = "SELECT " + ", ".join(
    "day::text" if f == "day" else f if f in _FOLDED else "NULL" for f in FACT_FIELDS
) + ", fact_key FROM events ORDER BY seq"
_KEY = len(FACT_FIELDS)


@dataclass(frozen=True)
class RebuildResult:
    events: int
    rows: int
    positions: dict[str, int]
    map_id: int | None = None  # the map the view is summed in
    claims_judged: int = 0  # activation claims judged against the registry


async def rebuild_counters(
    dsn: str, *, chunk: int = 20_000, progress: Callable[[int, int], None] | None = None,
    rules: ReconcileRules | None = None,
) -> RebuildResult:
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute("LOCK TABLE projection_positions IN EXCLUSIVE MODE")
            map_id = await map_in_force(conn)
            total = await conn.fetchval("SELECT count(*) FROM events")
            counted, positions, done = Tally(), {}, 0
            cursor = await conn.cursor(_READ)
            while rows := await cursor.fetch(chunk):
                # The new view starts empty, so a chunk folds as one batch; the position of
                # each key is the last sequence number read for it.
                counted, _ = tally([FactRows("", rows)], {}, counted)
                for row in rows:
                    positions[row[_KEY]] = row[F.SEQ]
                done += len(rows)
                if progress:
                    progress(done, total)
            deltas = expand(counted, await team_paths(conn, map_id) if map_id is not None else {})
            for table in ("unit_daily", "unit_total", "officer_daily", "officer_total"):
                await conn.execute(f"DELETE FROM {table}")
            if deltas:
                await write_deltas(conn, deltas)
            keys = sorted(positions)
            await conn.execute(
                "INSERT INTO projection_positions (projection, key, position) "
                "SELECT $1, k, p FROM unnest($2::text[], $3::bigint[]) AS m(k, p) "
                "ON CONFLICT (projection, key) DO UPDATE "
                "SET position = GREATEST(projection_positions.position, excluded.position), applied_at = now()",
                PROJECTION, keys, [positions[k] for k in keys])
            await conn.execute("UPDATE read_model_map SET map_id = $1", map_id)
            # The registry's judgements of the claims go with the counters they added to.
            judged = await judge_all(conn, rules or ReconcileRules(), sorted(EVENT_METRICS))
        rows = len(deltas.unit_daily) + len(deltas.unit_total) + len(deltas.officer_daily) + len(deltas.officer_total)
        return RebuildResult(done, rows, positions, map_id, judged)
    finally:
        await conn.close()
