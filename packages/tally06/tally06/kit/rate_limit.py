"""Token buckets per key (device token, client address), in memory: pure, the time is passed in.

A bucket holds up to ``burst`` tokens and gains ``rate_per_s`` a second; a request takes its
cost or is refused with the seconds it would have to wait. A bucket left alone long enough is
full again, exactly like one never seen, so forgetting it changes nothing: that is how memory
stays bounded without a timer.
"""

from __future__ import annotations

import ipaddress
import math
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    def __init__(self, rate_per_s: float, burst: float, max_keys: int = 100_000) -> None:
        if rate_per_s <= 0 or burst < 1 or max_keys < 1:
            raise ValueError("a token bucket needs rate_per_s > 0, burst >= 1 and max_keys >= 1")
        self.rate = rate_per_s
        self.burst = float(burst)
        self.max_keys = max_keys
        # Least recently used first, so the idle ones are at the front.
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def _level(self, bucket: _Bucket, now: float) -> float:
        return min(self.burst, bucket.tokens + max(0.0, now - bucket.at) * self.rate)

    def wait(self, key: str, now: float, cost: float = 1.0) -> float:
        """Seconds until ``cost`` could be taken from the key's bucket (0.0: now); takes nothing."""
        cost = min(cost, self.burst)
        bucket = self._buckets.get(key)
        level = self.burst if bucket is None else self._level(bucket, now)
        return 0.0 if level >= cost else (cost - level) / self.rate

    def take(self, key: str, now: float, cost: float = 1.0) -> float:
        """Take ``cost`` from the key's bucket and return 0.0, or, when it does not hold that
        much, take nothing and return the seconds until it will. A cost above the burst is
        charged as the whole burst, so a large batch is slowed but never refused for ever."""
        cost = min(cost, self.burst)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._add(key, now)
        else:
            self._buckets.move_to_end(key)
        level = self._level(bucket, now)
        bucket.at = now
        if level < cost:
            bucket.tokens = level
            return (cost - level) / self.rate
        bucket.tokens = level - cost
        return 0.0

    def _add(self, key: str, now: float) -> _Bucket:
        self._forget_idle(now)
        while len(self._buckets) >= self.max_keys:
            # Still full of busy keys (a flood of new ones): the least recently used loses its
            # history. Bounded memory matters more than one key's exact budget.
            self._buckets.popitem(last=False)
        bucket = _Bucket(self.burst, now)
        self._buckets[key] = bucket
        return bucket

    def _forget_idle(self, now: float) -> None:
        while self._buckets:
            oldest = next(iter(self._buckets.values()))
            if self._level(oldest, now) < self.burst:
                return
            self._buckets.popitem(last=False)


def retry_after(wait_s: float) -> int:
    """The Retry-After header's whole seconds: never 0, which clients read as "retry now"."""
    return max(1, math.ceil(wait_s))


def address_key(host: str | None) -> str:
    """The key a client address is limited by. An IPv6 host usually holds a whole /64, so the
    /64 is one key; anything unparsable is limited as it is."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
