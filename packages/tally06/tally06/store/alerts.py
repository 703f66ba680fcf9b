"""Alerts as the read API shows them, and their acknowledgement by a focal point.

The notifier writes alerts and notifications; the wallboard reads them here and records
acknowledgements, which stop escalation and reminders.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

import asyncpg
import orjson
from pydantic import BaseModel, ConfigDict

from tally06.domain.alert_rules import Rule


class NotificationView(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    recipient_id: int
    recipient_name: str
    recipient_unit: str
    channel: str
    kind: str
    state: str
    attempts: int
    created_at: dt.datetime
    sent_at: dt.datetime | None
    last_error: str | None


class AlertView(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    unit: str
    unit_name: str
    unit_kind: str
    rule: Rule
    day: dt.date
    status: str
    opened_at: dt.datetime
    updated_at: dt.datetime
    resolved_at: dt.datetime | None
    reopened: int
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    escalated_at: dt.datetime | None
    reminders: int
    detail: dict[str, Any]
    notifications: list[NotificationView] = []


_ALERT_COLUMNS = (
    "a.id, a.unit, u.name AS unit_name, u.kind AS unit_kind, a.rule, a.day, a.status, a.opened_at, "
    "a.updated_at, a.resolved_at, a.reopened, a.acknowledged_at, a.acknowledged_by, a.escalated_at, "
    "a.reminders, a.detail"
)


def _alert(row: asyncpg.Record, notifications: list[NotificationView]) -> AlertView:
    data = dict(row)
    data["detail"] = orjson.loads(data["detail"])
    return AlertView(**data, notifications=notifications)


async def _notifications(conn: asyncpg.Connection | asyncpg.Pool, ids: list[int]) -> dict[int, list[NotificationView]]:
    rows = await conn.fetch(
        "SELECT n.alert_id, n.id, n.recipient_id, f.name AS recipient_name, f.unit AS recipient_unit, "
        "f.channel, n.kind, n.state, n.attempts, n.created_at, n.sent_at, n.last_error "
        "FROM notifications n JOIN focal_points f ON f.id = n.recipient_id "
        "WHERE n.alert_id = ANY($1::bigint[]) ORDER BY n.id", ids)
    found: dict[int, list[NotificationView]] = {}
    for row in rows:
        data = dict(row)
        found.setdefault(data.pop("alert_id"), []).append(NotificationView(**data))
    return found


async def list_alerts(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    units: Collection[str] | None = None,
    status: str | None = None,
    day: dt.date | None = None,
    rule: Rule | None = None,
    limit: int = 500,
) -> list[AlertView]:
    """Alerts newest first; ``units`` limits them to those units (a focal point's subtree)."""
    rows = await conn.fetch(
        f"SELECT {_ALERT_COLUMNS} FROM alerts a JOIN units u ON u.code = a.unit "
        "WHERE ($1::text[] IS NULL OR a.unit = ANY($1::text[])) AND ($2::text IS NULL OR a.status = $2) "
        "AND ($3::date IS NULL OR a.day = $3) AND ($4::text IS NULL OR a.rule = $4) "
        "ORDER BY a.opened_at DESC, a.id DESC LIMIT $5",
        None if units is None else list(units), status, day, None if rule is None else rule.value, limit)
    notes = await _notifications(conn, [r["id"] for r in rows])
    return [_alert(r, notes.get(r["id"], [])) for r in rows]


async def get_alert(conn: asyncpg.Connection | asyncpg.Pool, alert_id: int) -> AlertView | None:
    row = await conn.fetchrow(
        f"SELECT {_ALERT_COLUMNS} FROM alerts a JOIN units u ON u.code = a.unit WHERE a.id = $1", alert_id)
    if row is None:
        return None
    return _alert(row, (await _notifications(conn, [alert_id])).get(alert_id, []))


async def acknowledge(
    conn: asyncpg.Connection | asyncpg.Pool, alert_id: int, by: str, at: dt.datetime
) -> AlertView | None:
    """Record who acknowledged first; acknowledging again changes nothing. None if no such alert."""
    await conn.execute(
        "UPDATE alerts SET acknowledged_at = $3, acknowledged_by = $2, updated_at = greatest(updated_at, $3) "
        "WHERE id = $1 AND acknowledged_at IS NULL", alert_id, by, at)
    return await get_alert(conn, alert_id)
