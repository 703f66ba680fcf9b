"""Rebuild benchmark: the counters rebuilt from 1,000,000 events in the event store.

The events are facts v2 as ingest stores them in the 2023 demo map (map 1 of a fresh bench
database): keyed by commune (``fact_key``), with their map and lineage. The rebuilt database is
handed on to the reorganisation section (``bench.reorg``) with the ground truth of its events.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import asyncpg

from bench.components import Bench
from bench.synthetic import synthetic_rows
from tally06_aggregator.rebuild import rebuild_counters

_COLUMNS = ("seq", "event_id", "content_digest", "schema_version", "type", "level", "metric", "occurred_at",
            "day", "received_at", "province", "district", "commune", "team", "officer", "citizen_key", "credited",
            "fact_key", "map_id", "lineage")


@dataclass
class GroundTruth:
    """What the stored events add up to, counted from the synthetic rows themselves:
    (team, day, metric) → [credited, duplicate claims]."""

    daily: dict[tuple[str, dt.date, str], list[int]] = field(default_factory=dict)

    def add(self, row: dict[str, Any]) -> None:
        cell = self.daily.setdefault((row["team"], row["day"], row["metric"]), [0, 0])
        cell[0 if row["credited"] else 1] += 1
        if row["credited"] and row["metric"].startswith("activated_"):
            # No registry extract is loaded: every credited activation waits for one.
            pending = self.daily.setdefault((row["team"], row["day"], "pending_" + row["metric"][-2:]), [0, 0])
            pending[0] += 1


@dataclass(frozen=True)
class StoredEvents:
    dsn: str
    count: int
    truth: GroundTruth


async def load_events(dsn: str, count: int, days: int = 14) -> GroundTruth:
    """Copy ``count`` synthetic events spread over ``days`` into the event store; returns their
    ground truth."""
    truth = GroundTruth()
    conn = await asyncpg.connect(dsn)
    try:
        rows = synthetic_rows(count, days=days)
        while chunk := list(islice(rows, 50_000)):
            for r in chunk:
                truth.add(r)
            await conn.copy_records_to_table("events", columns=_COLUMNS, records=[
                (r["seq"], r["event_id"], "-", 1, r["type"], r["level"], r["metric"], r["occurred_at"],
                 r["day"], r["received_at"], r["province"], r["district"], r["commune"], r["team"],
                 r["officer"], r["citizen_key"], r["credited"], r["fact_key"], r["map_id"], r["lineage"])
                for r in chunk])
        await conn.execute("UPDATE event_seq SET last_seq = $1", count)
    finally:
        await conn.close()
    return truth


async def run_rebuild(bench: Bench, count: int, days: int = 14) -> tuple[dict[str, float], StoredEvents]:
    dsn = await bench.fresh_database()
    truth = await load_events(dsn, count, days)
    started = time.perf_counter()
    result = await rebuild_counters(dsn)
    elapsed = time.perf_counter() - started
    if result.events != count:
        raise AssertionError(f"rebuild read {result.events} of {count} events")
    return {"rebuild_s": elapsed, "rebuild_eps": count / elapsed}, StoredEvents(dsn, count, truth)
