"""Signed acknowledgement links: a message carries one, so the recipient acknowledges with one
tap and nobody else can do it for them."""

from __future__ import annotations

import hashlib
import hmac

from tally06.domain.pii import derived_key


def ack_key(hmac_key: str) -> bytes:
    """The key that signs acknowledgement links, derived so it never equals the identity key."""
    return derived_key(hmac_key, b"tally06 alert acknowledgement")


def ack_token(key: bytes, alert_id: int, recipient_id: int) -> str:
    return hmac.new(key, f"{alert_id}:{recipient_id}".encode(), hashlib.sha256).hexdigest()[:32]


def ack_token_valid(key: bytes, alert_id: int, recipient_id: int, token: str) -> bool:
    # As bytes: compare_digest refuses str with non-ASCII characters, and a link can hold any.
    return hmac.compare_digest(ack_token(key, alert_id, recipient_id).encode(), token.encode("utf-8", "replace"))
