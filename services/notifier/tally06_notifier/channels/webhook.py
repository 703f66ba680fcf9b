"""Signed JSON POSTs to a receiver's URL (the Zalo/SMS bridge, a unit's own system)."""

from __future__ import annotations

import datetime as dt
import time

import httpx
import orjson

from tally06_notifier import webhook_signing
from tally06_notifier.exceptions import DeliveryFailed
from tally06_notifier.messages import OutgoingMessage

# Statuses that say "not now" rather than "never": request timeout, too early, rate limited.
RETRYABLE_4XX = frozenset({408, 425, 429})


def webhook_body(message: OutgoingMessage, sent_at: dt.datetime) -> bytes:
    return orjson.dumps(
        {
            "id": message.dedupe_key,
            "notification_id": message.notification_id,
            "recipient": message.recipient_name,
            "subject": message.subject,
            "body": message.body,
            "payload": message.payload,
            "sent_at": sent_at.isoformat(),
        }
    )


class WebhookChannel:
    name = "webhook"

    def __init__(
        self, secret: bytes, timeout_s: float = 10, client: httpx.AsyncClient | None = None
    ) -> None:
        if not secret:
            raise ValueError("a webhook secret is required: receivers reject unsigned posts")
        self._secret = secret
        self._timeout = httpx.Timeout(timeout_s)
        self._owns_client = client is None
        # Redirects stay off: a signed POST re-sent to another host would leak the alert.
        self._client = client or httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)

    async def send(self, message: OutgoingMessage) -> None:
        url = _checked_url(message.address)
        # Real wall time, not tally06.kit.clock: the receiver checks the timestamp against its own
        # clock, so a shifted demo clock would make every signature look stale.
        timestamp = int(time.time())
        body = webhook_body(message, dt.datetime.fromtimestamp(timestamp, dt.UTC))
        headers = webhook_signing.signed_headers(self._secret, message.dedupe_key, timestamp, body)
        headers["Content-Type"] = "application/json"
        try:
            response = await self._client.post(url, content=body, headers=headers, timeout=self._timeout)
        except httpx.UnsupportedProtocol as exc:
            raise DeliveryFailed(f"webhook URL {message.address!r}: {exc}", retryable=False) from exc
        except httpx.TimeoutException as exc:
            raise DeliveryFailed(f"webhook {url.host} timed out: {exc!r}", retryable=True) from exc
        except httpx.TransportError as exc:
            # Connection refused or reset, DNS failure, a peer that hung up mid-answer.
            raise DeliveryFailed(f"webhook {url.host}: {exc!r}", retryable=True) from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        raise DeliveryFailed(
            f"webhook {url.host} answered {status}: {response.text[:200]}",
            retryable=status >= 500 or status in RETRYABLE_4XX,
        )

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


def _checked_url(address: str) -> httpx.URL:
    try:
        url = httpx.URL(address)
    except (httpx.InvalidURL, TypeError) as exc:
        raise DeliveryFailed(f"malformed webhook URL {address!r}: {exc}", retryable=False) from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise DeliveryFailed(f"webhook URL must be absolute http(s): {address!r}", retryable=False)
    return url
