"""Rebuild benchmark: the counters rebuilt from 1,000,000 events in the event store."""

from __future__ import annotations

import time
from itertools import islice

import asyncpg

from bench.components import Bench
from bench.synthetic import synthetic_rows
from tally06_aggregator.rebuild import rebuild_counters

_COLUMNS = ("seq", "event_id", "content_digest", "schema_version", "type", "level", "metric", "occurred_at",
            "day", "received_at", "province", "district", "commune", "team", "officer", "citizen_key", "credited",
            "fact_key", "map_id", "lineage")


async def load_events(dsn: str, count: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        rows = synthetic_rows(count)
        while chunk := list(islice(rows, 50_000)):
            await conn.copy_records_to_table("events", columns=_COLUMNS, records=[
                (r["seq"], r["event_id"], "-", 1, r["type"], r["level"], r["metric"], r["occurred_at"],
                 r["day"], r["received_at"], r["province"], r["district"], r["commune"], r["team"],
                 r["officer"], r["citizen_key"], r["credited"], r["fact_key"], r["map_id"], r["lineage"])
                for r in chunk])
        await conn.execute("UPDATE event_seq SET last_seq = $1", count)
    finally:
        await conn.close()


async def run_rebuild(bench: Bench, count: int) -> dict[str, float]:
    dsn = await bench.fresh_database()
    await load_events(dsn, count)
    started = time.perf_counter()
    result = await rebuild_counters(dsn)
    elapsed = time.perf_counter() - started
    if result.events != count:
        raise AssertionError(f"rebuild read {result.events} of {count} events")
    return {"rebuild_s": elapsed, "rebuild_eps": count / elapsed}
