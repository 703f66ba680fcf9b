"""Group commit: posts that arrive while a write is in flight share the next transaction.

Every transaction holds the sequence lock until it has committed (and PostgreSQL has flushed
its log), so one post per commit caps ingest at one flush per post: about a hundred single-event
posts a second. Writing the posts that queued up meanwhile in one transaction costs one flush
for all of them. Each post still gets its own answer, only after the commit that made its events
durable, and a failed commit fails every post in it, so nothing is acknowledged unwritten.
"""

from __future__ import annotations

import asyncio
from typing import TypeAlias

from tally06_ingest.store import Candidate, EventStore, Outcome, Prepared

# A post waiting for its write: its prepared events, and the future its answers go to.
_Post: TypeAlias = tuple[list[Prepared], asyncio.Future[list[Outcome]]]


class GroupAppender:
    def __init__(self, store: EventStore, max_events: int = 5000) -> None:
        self._store = store
        self._max_events = max_events
        self._queue: list[_Post] = []
        self._writer: asyncio.Task | None = None

    async def append(self, candidates: list[Candidate]) -> list[Outcome]:
        if not candidates:
            return []
        done: asyncio.Future[list[Outcome]] = asyncio.get_running_loop().create_future()
        self._queue.append((self._store.prepare(candidates), done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_queued())
        # The write goes on if this request is cancelled (client gone): other posts share it.
        return await asyncio.shield(done)

    def _next_group(self) -> list[_Post]:
        group: list[_Post] = []
        size = 0
        while self._queue and (not group or size + len(self._queue[0][0]) <= self._max_events):
            posted, done = self._queue.pop(0)
            group.append((posted, done))
            size += len(posted)
        return group

    async def _write_queued(self) -> None:
        while self._queue:
            group = self._next_group()
            try:
                # The store answers in the order it was given the events: each post's answers
                # are its slice, and keep the post's own item indexes.
                outcomes = await self._store.write([item for prepared, _ in group for item in prepared])
            except Exception as exc:  # noqa: BLE001 - every post of the group learns of it
                for _, done in group:
                    if not done.done():
                        done.set_exception(exc)
                continue
            start = 0
            for prepared, done in group:
                if not done.done():
                    done.set_result(outcomes[start:start + len(prepared)])
                start += len(prepared)
