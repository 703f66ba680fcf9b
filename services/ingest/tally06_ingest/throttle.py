"""The abuse limits of POST /v1/events: posts and events per device token, failed token
look-ups per client address. Each refusal is a 429 with Retry-After and is counted by reason.

Only an authenticated request is charged to its token's buckets, so nobody can spend another
device's budget by naming its token id with a wrong secret.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import Counter

from tally06.kit.rate_limit import TokenBuckets, retry_after
from tally06_ingest.exceptions import TooManyRequests
from tally06_ingest.settings import IngestSettings

LIMITED = Counter(
    "tally06_ingest_limited_total",
    "Requests refused by an abuse limit, by reason: token_requests, token_events, "
    "unknown_tokens (per client address), body_too_large, body_timeout",
    ["reason"],
)


def _buckets(rate_per_s: float, burst: float, max_keys: int) -> TokenBuckets | None:
    return TokenBuckets(rate_per_s, burst, max_keys) if rate_per_s > 0 and burst >= 1 else None


class AbuseLimits:
    def __init__(self, settings: IngestSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        keys = settings.rate_limit_max_keys
        per_minute = settings.rate_limit_events_per_minute
        self._requests = _buckets(settings.rate_limit_per_s, settings.rate_limit_burst, keys)
        self._events = _buckets(per_minute / 60, per_minute, keys)
        self._lookups = _buckets(settings.auth_failure_per_s, settings.auth_failure_burst, keys)

    def admit_request(self, token_id: str) -> None:
        if self._requests is None:
            return
        wait = self._requests.take(token_id, self._clock())
        if wait:
            LIMITED.labels("token_requests").inc()
            raise TooManyRequests("authorization", "this device token posts too often; retry later",
                                  retry_after(wait))

    def admit_events(self, token_id: str, count: int) -> None:
        if self._events is None:
            return
        wait = self._events.take(token_id, self._clock(), count)
        if wait:
            LIMITED.labels("token_events").inc()
            raise TooManyRequests("events", "this device token posted too many events in the last "
                                  "minute; nothing was accepted, retry later", retry_after(wait))

    def admit_lookup(self, address: str) -> None:
        """Before a token is looked up in the database: refuse once the address has used up its
        failed look-ups."""
        if self._lookups is None:
            return
        wait = self._lookups.wait(address, self._clock())
        if wait:
            LIMITED.labels("unknown_tokens").inc()
            raise TooManyRequests("authorization", "too many unknown tokens from this address; "
                                  "retry later", retry_after(wait))

    def lookup_failed(self, address: str) -> None:
        if self._lookups is not None:
            self._lookups.take(address, self._clock())
