"""Fan-out of board events (progress, alerts) to every open stream."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class BoardEvent:
    kind: str  # "progress" | "alert" | "map" | "resync"
    data: dict[str, Any]


RESYNC = BoardEvent("resync", {"reason": "the board fell behind the stream; fetch the figures again"})


class Hub:
    def __init__(self, queue_size: int = 2_000) -> None:
        self._queues: set[asyncio.Queue[BoardEvent]] = set()
        self._size = queue_size

    @property
    def listeners(self) -> int:
        return len(self._queues)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[BoardEvent]]:
        queue: asyncio.Queue[BoardEvent] = asyncio.Queue(self._size)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)

    def publish(self, event: BoardEvent) -> None:
        for queue in self._queues:
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A slow client (a phone on a bad network) must not hold memory or stall the
                # others: drop what it has not read and tell it to fetch the view again.
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(RESYNC)
                log.warning("board_stream_overflow")
