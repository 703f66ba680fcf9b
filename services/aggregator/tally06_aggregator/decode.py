"""Decoding fact batches from the wire, without pydantic on the hot path."""

from __future__ import annotations

from typing import Any

import orjson

from tally06.events import SCHEMA_VERSION
from tally06_aggregator.exceptions import UnknownSchema


def decode_batch(raw: bytes) -> tuple[str, list[dict[str, Any]]]:
    document = orjson.loads(raw)
    if document.get("schema_version") != SCHEMA_VERSION:
        raise UnknownSchema(f"fact batch schema_version {document.get('schema_version')!r}")
    return document["key"], document["facts"]
