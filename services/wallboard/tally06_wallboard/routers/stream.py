"""The live stream a board listens to (Server-Sent Events)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import orjson
from fastapi import APIRouter
from sse_starlette import EventSourceResponse, ServerSentEvent

from tally06_wallboard.deps import Runtime, User
from tally06_wallboard.metrics import EVENTS_SENT, STREAMS_OPEN
from tally06_wallboard.runtime import WallboardRuntime
from tally06_wallboard.sessions import Principal

router = APIRouter(prefix="/v1", tags=["stream"])

# How long a board waits before reconnecting after the stream broke (EventSource's retry).
RETRY_MS = 1000
SLICE_S = 0.5

STREAM_DOC = """Server-Sent Events, one JSON object per `data:` line.

* `hello` on connect: `{server_time, heartbeat_s, feed}`
* `progress`: a unit's counters after a change, the shape of `tally06.contract.events.ProgressChange`
  (`unit`, `day`, `daily` and `total` per metric with `credited`, `claims`, `version`, `as_of`);
  only counters that moved forward are sent.
* `alert`: `{id, unit, rule, status, day, updated_at, acknowledged_at}` whenever an alert changes.
* `heartbeat` every `heartbeat_s` seconds without other events: `{server_time, feed}`; `feed` is
  `ok` while the progress topic is being read, else `down` (figures may then be behind).
* `map`: `{map_id, previous, effective_from}` when the live figures moved to another map version
  (the aggregator switched the read model): units, kinds and levels may have changed; fetch
  `/v1/units`, `/v1/kinds` and the figures again.
* `resync`: the client fell behind; fetch the figures again.
"""


def _event(kind: str, data: dict[str, Any], retry: int | None = None) -> ServerSentEvent:
    EVENTS_SENT.labels(kind).inc()
    return ServerSentEvent(data=orjson.dumps(data).decode(), event=kind, retry=retry)


def _status(runtime: WallboardRuntime) -> dict[str, Any]:
    return {"server_time": runtime.clock.now().isoformat(),
            "feed": "ok" if runtime.feed.healthy() else "down"}


async def _events(runtime: WallboardRuntime, principal: Principal,
                  shutdown: anyio.Event) -> AsyncIterator[ServerSentEvent]:
    heartbeat_s = runtime.settings.heartbeat_s
    check_every_s = max(SLICE_S, runtime.settings.account_cache_s)
    checked_at = time.monotonic()
    with runtime.hub.subscribe() as queue:
        STREAMS_OPEN.inc()
        try:
            yield _event("hello", {**_status(runtime), "heartbeat_s": heartbeat_s}, RETRY_MS)
            quiet_since = time.monotonic()
            # Short waits, so a shutting-down server ends the stream itself (a complete response)
            # instead of having it cancelled; the board then reconnects to the next process.
            while not shutdown.is_set():
                if time.monotonic() - checked_at >= check_every_s:
                    checked_at = time.monotonic()
                    if not await runtime.sessions.still_valid(principal):
                        # A disabled user's open board goes dark too; reconnecting asks for sign-in.
                        return
                try:
                    event = await asyncio.wait_for(queue.get(), SLICE_S)
                except TimeoutError:
                    if time.monotonic() - quiet_since >= heartbeat_s:
                        quiet_since = time.monotonic()
                        yield _event("heartbeat", _status(runtime))
                    continue
                unit = event.data.get("unit")
                if unit is not None and not principal.may_read(runtime.tree, unit):
                    continue  # another unit's change: this user's board never hears of it
                quiet_since = time.monotonic()
                yield _event(event.kind, event.data)
        finally:
            STREAMS_OPEN.dec()


@router.get("/stream", summary="Live changes for open boards", description=STREAM_DOC,
            responses={200: {"content": {"text/event-stream": {}}, "description": "an endless event stream"}})
async def stream(runtime: Runtime, principal: User) -> EventSourceResponse:
    """Only changes of the signed-in user's units are sent."""
    shutdown = anyio.Event()
    # Proxies must not buffer the stream, or updates arrive in lumps.
    return EventSourceResponse(_events(runtime, principal, shutdown),
                               headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
                               send_timeout=30, shutdown_event=shutdown, shutdown_grace_period=2 * SLICE_S)
