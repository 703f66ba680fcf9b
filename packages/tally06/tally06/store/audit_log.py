"""The append-only audit log (migrations 0008 and 0012): report exports and admin changes.

Rows are never updated or deleted afterwards (a trigger refuses it), so the log can be shown to
an inspector as it was written. Callers write the entry in the transaction of the change it
records wherever the change is one transaction, so there is never a change without its entry.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import asyncpg

# Who runs an admin command of the CLI: whoever holds the database URL (and, for personal-data
# commands, the keys). The CLI cannot tell people apart; --actor names them.
ADMIN_ROLE = "admin"


async def _append(
    conn: asyncpg.Connection, *, actor: str, role: str, action: str, unit: str | None,
    period_from: dt.datetime | None, period_to: dt.datetime | None, clear_pii: bool, row_count: int,
    target: str, detail: dict,
) -> int:
    return await conn.fetchval(
        "INSERT INTO audit_log (actor, role, action, unit, period_from, period_to, clear_pii, "
        "row_count, target, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb) RETURNING id",
        actor, role, action, unit, period_from, period_to, clear_pii, row_count, target,
        json.dumps(detail, ensure_ascii=False, default=str))


async def record_export(
    conn: asyncpg.Connection, *, actor: str, role: str, action: str, unit: str,
    period_from: dt.datetime | None, period_to: dt.datetime, clear_pii: bool, row_count: int,
    target: Path | str, detail: dict | None = None,
) -> int:
    """Append one export (or refused export); returns its id."""
    return await _append(conn, actor=actor, role=role, action=action, unit=unit, period_from=period_from,
                         period_to=period_to, clear_pii=clear_pii, row_count=row_count, target=str(target),
                         detail=detail or {})


async def record_change(
    conn: asyncpg.Connection, *, actor: str, action: str, target: str, summary: str,
    unit: str | None = None, row_count: int = 0, period_from: dt.datetime | None = None,
    period_to: dt.datetime | None = None, role: str = ADMIN_ROLE, detail: dict | None = None,
) -> int:
    """Append one admin change (``token.issue``, ``pii.retention``, ...); returns its id.

    ``summary`` and ``detail`` are read by people and kept for years: counts, codes, ids and
    file names only, never personal data or secrets (the callers' duty; the scan in
    tests/integration/test_no_clear_pii.py checks the tables).
    """
    return await _append(conn, actor=actor, role=role, action=action, unit=unit, period_from=period_from,
                         period_to=period_to, clear_pii=False, row_count=row_count, target=target,
                         detail={**(detail or {}), "summary": summary})


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    role: str
    action: str
    unit: str | None
    period_from: dt.datetime | None
    period_to: dt.datetime | None
    clear_pii: bool
    row_count: int
    target: str
    detail: dict

    @property
    def summary(self) -> str:
        """The change's own summary; for an export, one made from its columns."""
        if "summary" in self.detail:
            return str(self.detail["summary"])
        period = f"{self.period_from.isoformat() if self.period_from else '…'} → " \
                 f"{self.period_to.isoformat() if self.period_to else '…'}"
        return f"{self.row_count} rows, {'CLEAR personal data' if self.clear_pii else 'masked'}, {period}"


async def read_entries(
    conn: asyncpg.Connection, *, since: dt.datetime | None = None, action: str | None = None, limit: int = 100,
) -> list[AuditEntry]:
    """The newest ``limit`` entries at or after ``since``, oldest first. ``action`` is an exact
    action or its family: ``token`` finds ``token.issue`` and ``token.revoke``."""
    rows = await conn.fetch(
        "SELECT id, at, actor, role, action, unit, period_from, period_to, clear_pii, row_count, target, detail "
        "FROM audit_log WHERE ($1::timestamptz IS NULL OR at >= $1) "
        "AND ($2::text IS NULL OR action = $2 OR starts_with(action, $2 || '.')) "
        "ORDER BY id DESC LIMIT $3", since, action, limit)
    return [AuditEntry(**{**dict(r), "detail": json.loads(r["detail"])}) for r in reversed(rows)]
