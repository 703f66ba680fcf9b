"""Reading the request envelope: content type, size, JSON and shape, before any item."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import Request
from starlette.requests import ClientDisconnect

from tally06_ingest.exceptions import EnvelopeError
from tally06_ingest.throttle import LIMITED


async def read_body(request: Request, max_bytes: int, timeout_s: float | None = None) -> bytes:
    """The body, refused as soon as it is over ``max_bytes`` (announced or streamed: nothing
    beyond the limit is ever held) or when it has not all arrived within ``timeout_s``."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise EnvelopeError(415, "content-type", "must be application/json")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        LIMITED.labels("body_too_large").inc()
        raise EnvelopeError(413, "body", f"is larger than {max_bytes} bytes")
    chunks, size = [], 0
    try:
        async with asyncio.timeout(timeout_s):
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    LIMITED.labels("body_too_large").inc()
                    raise EnvelopeError(413, "body", f"is larger than {max_bytes} bytes")
                chunks.append(chunk)
    except TimeoutError:
        LIMITED.labels("body_timeout").inc()
        # The connection is closed after the answer: a client that trickles bytes would
        # otherwise hold it open for ever (ingest discards them, and every byte resets the
        # server's idle timer).
        raise EnvelopeError(408, "body", f"did not arrive within {timeout_s:g} s",
                            {"Connection": "close"}) from None
    except ClientDisconnect:
        # Nobody is left to answer, but the request ends as a client error, not a server one.
        raise EnvelopeError(400, "body", "the connection closed before the body was complete") from None
    return b"".join(chunks)


def parse_events(body: bytes, max_events: int) -> list[Any]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise EnvelopeError(400, "body", "is not valid JSON") from None
    if not isinstance(document, dict):
        raise EnvelopeError(422, "body", "must be a JSON object with an 'events' list")
    extra = sorted(set(document) - {"events"})
    if extra:
        raise EnvelopeError(422, extra[0], "is not a known field of the envelope")
    events = document.get("events")
    if not isinstance(events, list):
        raise EnvelopeError(422, "events", "is required and must be a list")
    if not 1 <= len(events) <= max_events:
        raise EnvelopeError(422, "events", f"must hold 1 to {max_events} events, got {len(events)}")
    return events
