"""Turning event-store rows into fact rows on the wire (the contract in tally06.contract.events)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tally06.contract.events import FACT_FIELDS, F, encode_fact_rows

FACT_COLUMNS = ", ".join(FACT_FIELDS)


def fact_row(row: Any) -> list[Any]:
    """A row of ``SELECT FACT_COLUMNS FROM events`` as a fact row in JSON form."""
    return [
        row["seq"], str(row["event_id"]), row["type"], row["level"], row["metric"],
        row["occurred_at"].isoformat(), row["day"].isoformat(), row["received_at"].isoformat(),
        row["province"], row["district"], row["commune"], row["team"], row["officer"],
        row["citizen_key"], row["credited"],
    ]


def batches_by_key(rows: Sequence[Any], max_facts: int) -> dict[str, list[list[list[Any]]]]:
    """Group rows (in sequence order) by district, in chunks of at most ``max_facts``."""
    grouped: dict[str, list[list[list[Any]]]] = {}
    for row in rows:
        chunks = grouped.setdefault(row["district"], [[]])
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
