"""Factories for test data. Every clear CCCD and phone handed out is remembered, so a test can
later prove none of them leaked into logs, topics or tables."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

ISSUED_CCCDS: set[str] = set()
ISSUED_PHONES: set[str] = set()

_rng = random.Random(606)


def cccd() -> str:
    # 038 is Thanh Hóa; the rest random, so values are unique across a test session.
    value = "038" + "".join(str(_rng.randrange(10)) for _ in range(9))
    ISSUED_CCCDS.add(value)
    return value


def phone() -> str:
    value = "09" + "".join(str(_rng.randrange(10)) for _ in range(8))
    ISSUED_PHONES.add(value)
    return value


def citizen(**overrides: Any) -> dict[str, Any]:
    body = {"id_number": cccd(), "full_name": "Nguyễn Văn An", "phone": phone()}
    body.update(overrides)
    return body


def event(
    *,
    team: str = "TH-03-C01-T1",
    type: str = "account_activated",  # noqa: A002 - the event field it sets
    level: int | None = 1,
    occurred_at: dt.datetime | None = None,
    officer: str = "CA-TH03-0001",
    citizen_body: dict[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    moment = occurred_at or dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    body: dict[str, Any] = {
        "schema_version": 1,
        "event_id": str(uuid.uuid4()),
        "type": type,
        "occurred_at": moment.isoformat(),
        "team": team,
        "officer": officer,
        "citizen": citizen_body or citizen(),
    }
    if level is not None:
        body["level"] = level
    body.update(overrides)
    return body
