"""Turning event-store rows into fact rows on the wire (the contract in tally06.contract.events)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tally06.contract.events import FACT_FIELDS, F, encode_fact_rows

# The columns of ``events`` in the order of FACT_FIELDS, and the key the fact was stored with.
FACT_COLUMNS = ", ".join({"map": "map_id", "lineage": "lineage"}.get(f, f) for f in FACT_FIELDS) + ", fact_key"


def fact_row(row: Any) -> list[Any]:
    """A row of ``SELECT FACT_COLUMNS FROM events`` as a fact row in JSON form."""
    return [
        row["seq"], str(row["event_id"]), row["type"], row["level"], row["metric"],
        row["occurred_at"].isoformat(), row["day"].isoformat(), row["received_at"].isoformat(),
        row["team"], row["officer"], row["citizen_key"], row["credited"], row["map_id"], row["lineage"],
    ]


def batches_by_key(rows: Sequence[Any], max_facts: int) -> dict[str, list[list[list[Any]]]]:
    """Group rows (in sequence order) by the key each was stored with, in chunks of at most
    ``max_facts``."""
    grouped: dict[str, list[list[list[Any]]]] = {}
    for row in rows:
        chunks = grouped.setdefault(row["fact_key"], [[]])
        if len(chunks[-1]) >= max_facts:
            chunks.append([])
        chunks[-1].append(fact_row(row))
    return grouped


def encode_batch(key: str, facts: list[list[Any]], prev_seq: int | None = None) -> bytes:
    return encode_fact_rows(key, facts, prev_seq)


def seq_headers(facts: list[list[Any]]) -> list[tuple[str, bytes]]:
    return [("first_seq", str(facts[0][F.SEQ]).encode()), ("last_seq", str(facts[-1][F.SEQ]).encode())]


def header_seq(headers: Sequence[tuple[str, bytes]], name: str = "last_seq") -> int | None:
    for key, value in headers:
        if key == name:
            return int(value)
    return None
