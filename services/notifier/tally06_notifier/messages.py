"""A message to one recipient, as the delivery channels receive it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OutgoingMessage:
    notification_id: int
    # Stable across retries: webhook receivers and mail clients can drop a repeat by it.
    dedupe_key: str
    recipient_name: str
    channel: str  # "email" | "webhook" | "console"
    address: str  # e-mail address, webhook URL, or a label for the console
    subject: str
    body: str  # plain text, Vietnamese first
    payload: dict[str, Any] = field(default_factory=dict)  # the JSON a webhook carries
