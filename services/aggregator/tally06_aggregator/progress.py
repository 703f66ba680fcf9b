"""The compact stream of progress changes, built from the rows a projection step changed."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from tally06.contract.events import SCHEMA_VERSION
from tally06.contract.topics import progress_key


def _count(row: Mapping[str, Any]) -> dict[str, int]:
    return {"credited": row["credited"], "claims": row["claims"], "version": row["version"]}


def progress_messages(
    daily: Iterable[Mapping[str, Any]], total: Iterable[Mapping[str, Any]], as_of: dt.datetime
) -> list[tuple[bytes, bytes]]:
    """One (key, value) per changed (unit, day), in the shape of ``tally06.contract.events.ProgressChange``."""
    days: dict[tuple[str, dt.date], dict[str, dict[str, int]]] = defaultdict(dict)
    for row in daily:
        days[(row["unit"], row["day"])][row["metric"]] = _count(row)
    totals: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    for row in total:
        totals[row["unit"]][row["metric"]] = _count(row)
    stamp = as_of.isoformat()
    return [_message(unit, day, metrics, totals.get(unit, {}), stamp) for (unit, day), metrics in sorted(days.items())]


def _message(unit: str, day: dt.date, daily: Mapping[str, Any], total: Mapping[str, Any],
             stamp: str) -> tuple[bytes, bytes]:
    return progress_key(unit), orjson.dumps({
        "schema_version": SCHEMA_VERSION, "unit": unit, "day": day.isoformat(),
        "daily": daily, "total": total, "as_of": stamp,
    })


def snapshot_messages(
    daily: Iterable[Mapping[str, Any]], total: Iterable[Mapping[str, Any]], day: dt.date, as_of: dt.datetime
) -> list[tuple[bytes, bytes]]:
    """One message per unit with its counters of ``day`` and cumulative: every unit's figures at
    once, for consumers to follow the read model into another map."""
    units: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    for row in total:
        units[row["unit"]][row["metric"]] = _count(row)
    today: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    for row in daily:
        today[row["unit"]][row["metric"]] = _count(row)
    stamp = as_of.isoformat()
    return [_message(unit, day, today.get(unit, {}), metrics, stamp) for unit, metrics in sorted(units.items())]
