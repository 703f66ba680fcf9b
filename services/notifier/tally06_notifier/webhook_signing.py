"""Signatures of webhook deliveries, in the style of Stripe and Standard Webhooks.

Every POST carries three headers:

- ``X-Tally06-Delivery``: the message's dedupe key. It stays the same when a delivery is
  repeated (after a timeout the sender cannot know whether the first attempt arrived), so a
  receiver - the Zalo or SMS bridge - must remember the keys it handled and drop repeats.
- ``X-Tally06-Timestamp``: Unix seconds when the request was signed.
- ``X-Tally06-Signature``: ``v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>``. More
  than one signature may be listed, separated by spaces or commas, so a secret can be rotated
  without a gap.

A receiver calls :func:`verify` with the raw body bytes, before parsing the JSON: the signature
covers the bytes as sent, not a re-serialisation. The timestamp is signed too and must be
recent, so a captured request cannot be replayed days later.

Pure functions only; no I/O, so receivers can import this module alone.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

DELIVERY_HEADER = "X-Tally06-Delivery"
TIMESTAMP_HEADER = "X-Tally06-Timestamp"
SIGNATURE_HEADER = "X-Tally06-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE_S = 300


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The value of ``X-Tally06-Signature`` for ``body`` signed at ``timestamp``."""
    return f"{SCHEME}={_digest(secret, timestamp, body)}"


def signed_headers(secret: bytes, delivery_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        DELIVERY_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def verify(
    secret: bytes,
    headers: Mapping[str, str],
    body: bytes,
    now: int,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> bool:
    """True if ``body`` was signed with ``secret`` within ``tolerance_s`` of ``now``.

    Header names are matched without regard to case, as HTTP requires; a missing or malformed
    header is a failed check, never an exception.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    raw_timestamp = lowered.get(TIMESTAMP_HEADER.lower())
    raw_signatures = lowered.get(SIGNATURE_HEADER.lower())
    if not raw_timestamp or not raw_signatures or not lowered.get(DELIVERY_HEADER.lower()):
        return False
    try:
        timestamp = int(raw_timestamp.strip())
    except ValueError:
        return False
    # Both directions: a timestamp far in the future would otherwise stay valid for long.
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = _digest(secret, timestamp, body)
    valid = False
    for candidate in raw_signatures.replace(",", " ").split():
        scheme, _, value = candidate.partition("=")
        # Compare every candidate, so the time taken does not tell which one matched.
        if scheme == SCHEME and hmac.compare_digest(value.encode(), expected.encode()):
            valid = True
    return valid


def _digest(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
