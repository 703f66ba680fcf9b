"""Turning event-store rows into facts on the wire (the contract in tally06.events)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from tally06.events import SCHEMA_VERSION

FACT_COLUMNS = (
    "seq, event_id, type, level, metric, occurred_at, day, received_at, province, district, "
    "commune, team, officer, citizen_key, credited"
)


def fact_of(row: Any) -> dict[str, Any]:
    """A row of ``SELECT FACT_COLUMNS FROM events`` as a ``Fact`` in JSON form.

    Built by hand rather than through pydantic because the relay does this for every event;
    a unit test checks the result against the ``Fact`` model.
    """
    return {
        "schema_version": SCHEMA_VERSION,
        "seq": row["seq"],
        "event_id": str(row["event_id"]),
        "type": row["type"],
        "level": row["level"],
        "metric": row["metric"],
        "occurred_at": row["occurred_at"].isoformat(),
        "day": row["day"].isoformat(),
        "received_at": row["received_at"].isoformat(),
        "province": row["province"],
        "district": row["district"],
        "commune": row["commune"],
        "team": row["team"],
        "officer": row["officer"],
        "citizen_key": row["citizen_key"],
        "credited": row["credited"],
    }


def batches_by_key(rows: Sequence[Any], max_facts: int) -> dict[str, list[list[dict[str, Any]]]]:
    """Group rows (in sequence order) by district, in chunks of at most ``max_facts``."""
    grouped: dict[str, list[list[dict[str, Any]]]] = {}
    for row in rows:
        chunks = grouped.setdefault(row["district"], [[]])
        if len(chunks[-1]) >= max_facts:
            chunks.append([])
        chunks[-1].append(fact_of(row))
    return grouped


def encode_batch(key: str, facts: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"schema_version": SCHEMA_VERSION, "key": key, "facts": facts})


def seq_headers(facts: list[dict[str, Any]]) -> list[tuple[str, bytes]]:
    return [("first_seq", str(facts[0]["seq"]).encode()), ("last_seq", str(facts[-1]["seq"]).encode())]


def header_seq(headers: Iterator[tuple[str, bytes]] | Sequence[tuple[str, bytes]], name: str = "last_seq") -> int | None:
    for key, value in headers:
        if key == name:
            return int(value)
    return None
