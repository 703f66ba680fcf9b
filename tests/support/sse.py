"""Reading Server-Sent Events in tests."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import orjson


async def sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, dict, float]]:
    """(event, data, arrival time) from a Server-Sent Events response."""
    kind, data = "message", []
    async for line in response.aiter_lines():
        if line == "":
            if data:
                yield kind, orjson.loads("\n".join(data)), time.monotonic()
            kind, data = "message", []
        elif line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
