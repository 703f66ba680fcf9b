"""Device authentication with a short-lived cache, so a revoked token stops within a minute."""

from __future__ import annotations

import time

import asyncpg

from tally06.store.device_tokens import DeviceToken, find_token, token_hash


class TokenCache:
    def __init__(self, pool: asyncpg.Pool, ttl_s: float, negative_ttl_s: float = 5.0,
                 max_entries: int = 50_000) -> None:
        self._pool = pool
        self._ttl = ttl_s
        self._negative_ttl = negative_ttl_s
        self._max = max_entries
        self._entries: dict[bytes, tuple[float, DeviceToken | None]] = {}

    def knows(self, token: str) -> bool:
        """Whether the answer for this token is cached, so asking costs no database look-up."""
        hit = self._entries.get(token_hash(token))
        return hit is not None and hit[0] > time.monotonic()

    async def device(self, token: str) -> DeviceToken | None:
        """The active device behind a token, or None for an unknown or revoked one."""
        key = token_hash(token)
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            found = hit[1]
        else:
            found = await find_token(self._pool, token)
            if len(self._entries) >= self._max:
                self._entries.clear()
            ttl = self._ttl if found is not None else self._negative_ttl
            self._entries[key] = (now + ttl, found)
        return None if found is None or found.revoked else found
