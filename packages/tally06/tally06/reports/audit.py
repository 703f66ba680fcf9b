"""The append-only audit log of report exports (migration 0008)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import asyncpg


async def record_export(
    conn: asyncpg.Connection, *, actor: str, role: str, action: str, unit: str,
    period_from: dt.datetime | None, period_to: dt.datetime, clear_pii: bool, row_count: int,
    target: Path | str, detail: dict | None = None,
) -> int:
    """Append one row; returns its id. Never updated or deleted afterwards (a trigger refuses)."""
    return await conn.fetchval(
        "INSERT INTO audit_log (actor, role, action, unit, period_from, period_to, clear_pii, "
        "row_count, target, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb) RETURNING id",
        actor, role, action, unit, period_from, period_to, clear_pii, row_count, str(target),
        json.dumps(detail or {}, ensure_ascii=False))
