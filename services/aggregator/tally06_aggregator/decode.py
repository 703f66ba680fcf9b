"""Decoding fact batches from the wire, without pydantic on the hot path."""

from __future__ import annotations

from tally06.contract.events import FactRows, UnknownFactSchema, decode_fact_rows
from tally06_aggregator.exceptions import UnknownSchema


def decode_batch(raw: bytes) -> FactRows:
    try:
        return decode_fact_rows(raw)
    except UnknownFactSchema as exc:
        raise UnknownSchema(str(exc)) from exc
